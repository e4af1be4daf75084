//! cordon: a network segmentation policy verifier.
//!
//! The pipeline runs one way, one stage per module:
//! `load` (files to raw types) → `resolve` (raw types to the model) → `graph` (the model
//! as a reachability graph) → `engine`, `check` and `reach` (questions and answers) →
//! `render` (answers to text, JSON and the other formats).

pub mod check;
pub mod cidr_index;
pub mod classify;
pub mod cli;
pub mod commands;
pub mod connections;
pub mod cut;
pub mod date;
pub mod diagnostic;
pub mod diff;
pub mod engine;
pub mod evidence;
pub mod exit;
pub mod graph;
pub mod import;
pub mod json_lines;
pub mod load;
pub mod location;
pub mod matrix;
pub mod model;
pub mod path;
pub mod picture;
pub mod policy;
pub mod port_list;
pub mod port_set;
pub mod ports;
pub mod progress;
pub mod raw;
pub mod reach;
pub mod render;
pub mod report;
pub mod resolve;
pub mod revision;
pub mod schema;
pub mod story;
pub mod suggest;
pub mod synth;
pub mod timings;
pub mod waiver;
