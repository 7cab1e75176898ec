//! Prints the capability table of every enabled backend, as Markdown.
//!
//! The README's table is this output (a test keeps them equal):
//!
//! ```text
//! cargo run --example capabilities
//! ```

fn main() -> Result<(), unibill::Error> {
    print!("{}", unibill::capability_table()?);
    Ok(())
}
