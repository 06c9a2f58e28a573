//! The AWS layer against the local emulator.
