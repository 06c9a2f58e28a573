//! nunjucks tests
