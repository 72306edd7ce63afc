//! The `hromada` binary's library half: configuration, choosing the storage backend by URL,
//! wiring the web and federation routers, and running a node until it is told to stop.
//!
//! This is the only crate that names both storage backends and the only one using `anyhow`.
//! The test kit starts whole nodes through [`start`].

pub mod config;
pub mod demo;
mod media_sweep;
mod node;
mod periodic;
mod search_merge;
mod unread_body;

pub use config::{Config, ConfigError, Settings};
pub use node::{
    RunningNode, StartError, Stores, federation_of, migrations_pending, open_store,
    open_store_for_admin, sqlite_file, start, warn_about_setup,
};
pub use unread_body::close_when_body_unread;
