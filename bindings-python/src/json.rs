//! JSON text of Python values without the `json` module's per-call overhead (about 1.5 µs of a
//! write): dicts with `str` keys, lists, tuples, `str`, `int` (64-bit), finite `float`, `bool`
//! and `None`, of exactly these types. Anything else (subclasses, other keys, big integers,
//! NaN, deep nesting) is left to the `json` module, so its behaviour is kept.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// Deeper values go to the `json` module (which also detects cycles).
const MAX_DEPTH: usize = 64;

struct Value<'a, 'py> {
    value: &'a Bound<'py, PyAny>,
    depth: usize,
}

impl Value<'_, '_> {
    fn child<'a, 'py>(&self, value: &'a Bound<'py, PyAny>) -> Value<'a, 'py> {
        Value {
            value,
            depth: self.depth + 1,
        }
    }
}

fn unsupported<E: serde::ser::Error>() -> E {
    E::custom("left to the json module")
}

impl<'py> Value<'_, 'py> {
    fn scalar<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let v = self.value;
        if v.is_none() {
            serializer.serialize_unit()
        } else if let Ok(s) = v.cast_exact::<PyString>() {
            serializer.serialize_str(&s.to_cow().map_err(S::Error::custom)?)
        } else if let Ok(b) = v.cast_exact::<PyBool>() {
            serializer.serialize_bool(b.is_true())
        } else if v.is_exact_instance_of::<PyInt>() {
            let i = v.extract::<i64>().map_err(|_| unsupported::<S::Error>())?;
            serializer.serialize_i64(i)
        } else if let Some(x) = v.cast_exact::<PyFloat>().ok().map(|f| f.value()) {
            match x.is_finite() {
                true => serializer.serialize_f64(x),
                false => Err(unsupported()),
            }
        } else {
            Err(unsupported())
        }
    }

    fn map<S: Serializer>(&self, d: &Bound<'py, PyDict>, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(d.len()))?;
        for (key, item) in d.iter() {
            let key = key
                .cast_exact::<PyString>()
                .map_err(|_| unsupported::<S::Error>())?;
            let key = key.to_cow().map_err(S::Error::custom)?;
            map.serialize_entry(&*key, &self.child(&item))?;
        }
        map.end()
    }

    fn seq<S: Serializer>(
        &self,
        items: impl ExactSizeIterator<Item = Bound<'py, PyAny>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(items.len()))?;
        for item in items {
            seq.serialize_element(&self.child(&item))?;
        }
        seq.end()
    }
}

impl Serialize for Value<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let v = self.value;
        if self.depth > MAX_DEPTH {
            Err(unsupported())
        } else if let Ok(d) = v.cast_exact::<PyDict>() {
            self.map(d, serializer)
        } else if let Ok(l) = v.cast_exact::<PyList>() {
            self.seq(l.iter(), serializer)
        } else if let Ok(t) = v.cast_exact::<PyTuple>() {
            self.seq(t.iter(), serializer)
        } else {
            self.scalar(serializer)
        }
    }
}

/// Compact JSON text of a value of plain JSON types, `None` when the `json` module must do it.
pub(crate) fn to_json(value: &Bound<'_, PyAny>) -> Option<String> {
    serde_json::to_string(&Value { value, depth: 0 }).ok()
}
