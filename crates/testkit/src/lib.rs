//! Helpers shared by Hromada's tests.

// Test helpers fail the test loudly when the environment is broken; that is their job.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod db;
pub mod fake_remote;
pub mod node;

pub use node::{Backend, TEST_PASSWORD, TestNode};
