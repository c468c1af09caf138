//! Burnpack weights in and out of a burn module: the one loader and writer every model uses.

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;

use crate::{Error, Result};

/// `module` with the weights of burnpack `bytes`; `what` names the model in errors.
pub(crate) fn load<M: Module>(module: M, bytes: &[u8], what: &str) -> Result<M> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| Error::Model(format!("{what} weights: {e}")))?;
    module
        .try_load_record(record)
        .map_err(|e| Error::Model(format!("{what} weights do not fit the network: {e}")))
}

/// The weights of `module` as burnpack bytes; `what` names the model in errors.
pub(crate) fn save<M: Module>(module: &M, what: &str) -> Result<Vec<u8>> {
    let bytes = module
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| Error::Model(format!("serialising {what}: {e}")))?;
    Ok(bytes.to_vec())
}
