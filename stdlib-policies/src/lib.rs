//! The standard policy library (`std.guards.input`, `std.tools`, ...),
//! written in Pol and embedded as source text. The front end adds these
//! files to every project, unless the project defines the same packages
//! itself (as this directory does when it is checked directly).

include!(concat!(env!("OUT_DIR"), "/files.rs"));

#[cfg(test)]
mod tests {
    #[test]
    fn files_are_embedded() {
        assert!(
            super::FILES
                .iter()
                .any(|(path, text)| path.ends_with(".pol") && text.contains("package std."))
        );
    }
}
