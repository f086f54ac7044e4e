//! The one integration-test binary: corpus cases through every engine, the command line,
//! parse errors, parser robustness and the FAS derivation.

mod allocations;
mod capi;
mod cli;
mod conformance;
mod differential;
mod docs;
mod eval_sharing;
mod fas_context;
mod generator;
mod ip_tables;
mod long_chains;
mod narrow_keys;
mod parse_errors;
mod parser_robustness;
mod program_integrity;
mod replay;
mod replay_actions;
mod replay_certainty;
mod replay_hostile;
mod replay_html;
mod replay_huawei;
mod replay_parse;
mod run_time_imports;
mod simulate;
mod spec_vectors;
mod util;
mod wire_format;
