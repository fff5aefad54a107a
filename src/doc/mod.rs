//! The output documents (the JSON/YAML contracts): what `matrix`, `probe` and `diff` compute and
//! `report` shows. They sit below both so that probe and diff never reach up into report.

pub mod diff;
pub mod matrix;
pub mod probe;
