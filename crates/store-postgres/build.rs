// sqlx::migrate! reads the migration files at compile time; without this a new migration
// would not rebuild the crate, and a binary built before it would not know the new table.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations/postgres");
}
