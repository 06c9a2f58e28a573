//! CloudFormation templates as data: parsing rendered text into one long-form JSON shape
//! ([`parse`]), the canonical form that comparisons use ([`canonical`]), and what counts as an
//! intrinsic function ([`intrinsic`]), and what a template says about its parameters and the
//! capabilities it needs ([`params`]), and CloudFormation's resource provider schemas, embedded
//! ([`resource_schema`]).
//!
//! Nothing here renders templates (that is `render`), talks to AWS, or knows about stacks.

pub mod canonical;
pub mod intrinsic;
pub mod params;
pub mod parse;
pub mod resource_schema;
#[cfg(test)]
pub(crate) mod testgen;
