//! Links the addon against Node's symbols at load time.
fn main() {
    napi_build::setup();
}
