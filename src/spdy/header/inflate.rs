//! Per-session header inflater with the version's dictionary and a bomb guard.
