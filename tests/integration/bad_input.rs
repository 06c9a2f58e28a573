//! bad_input tests
