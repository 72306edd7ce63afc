//! Helpers shared by Hromada's tests.

pub mod db;
pub mod fake_remote;
pub mod node;

pub use node::{Backend, TEST_PASSWORD, TestNode};
