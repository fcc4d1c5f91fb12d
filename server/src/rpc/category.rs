//! `category.get`.

use messagedb::{CategoryOpts, ConsumerGroup, Namespace};
use serde_json::value::RawValue;

use super::args::{self, opt_number, opt_string, options, string};
use super::encode;
use crate::error::ApiError;

/// `category.get(categoryName, options?)`.
pub async fn get(ns: &Namespace, args: &[&RawValue]) -> Result<String, ApiError> {
    let category = string(args.first().copied(), "categoryName must be a string")?;
    let opts = options(args, 1)?.unwrap_or_default();
    let mut get = CategoryOpts::default();
    get.position = opt_number(&opts, "position", "options.position must be a number")?;
    if let Some(gp) = opt_number(
        &opts,
        "globalPosition",
        "options.globalPosition must be a number",
    )? {
        get.position = Some(gp);
    }
    get.batch_size = opt_number(&opts, "batchSize", "options.batchSize must be a number")?;
    get.correlation = opt_string(&opts, "correlation", "options.correlation must be a string")?;
    get.consumer_group = consumer_group(&opts)?;
    let messages = ns.get_category(&category, &get).await?;
    encode::messages(messages, encode::Shape::Category).await
}

/// `options.consumerGroup`: `{}` or absent = none; both members or neither.
pub(super) fn consumer_group(opts: &args::Fields<'_>) -> Result<Option<ConsumerGroup>, ApiError> {
    let Some(group) = args::object(
        opts.get("consumerGroup").copied(),
        "options.consumerGroup must be an object",
    )?
    else {
        return Ok(None);
    };
    let member = opt_number(
        &group,
        "member",
        "options.consumerGroup.member must be a number",
    )?;
    let size = opt_number(
        &group,
        "size",
        "options.consumerGroup.size must be a number",
    )?;
    Ok(ConsumerGroup::from_parts(member, size)?)
}
