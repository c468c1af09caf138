//! The embedded models of a plan, loaded on first use on one device and shared by every plan built
//! with the same cache.

use std::sync::Mutex;

use jnd_model::Accelerator;
use jnd_model::dmvjnd::DmvJnd;
use jnd_model::judge::Judge;
use jnd_model::vpjnd::VpJnd;

use crate::{Error, Result};

/// The embedded models, loaded on first use on one device and shared by every plan built with the same
/// cache (the C ABI keeps one per handle, so changing a setting does not reload a network).
#[derive(Debug, Default)]
pub struct Models {
    accelerator: Accelerator,
    vpjnd: Mutex<Option<VpJnd>>,
    judge: Mutex<Option<Judge>>,
    dmvjnd: Mutex<Option<DmvJnd>>,
}

impl Models {
    /// An empty cache whose models will run on `accelerator`, checked here to be compiled in and
    /// usable on this machine (a one-line error otherwise, before any input is read). The CPU
    /// ([`Models::default`]) always is.
    pub fn on(accelerator: Accelerator) -> Result<Self> {
        jnd_model::select_device(accelerator)?;
        Ok(Self { accelerator, ..Self::default() })
    }

    /// Where the models run.
    pub fn accelerator(&self) -> Accelerator {
        self.accelerator
    }

    /// The VP-JND network.
    pub fn vpjnd(&self) -> Result<VpJnd> {
        let mut slot =
            self.vpjnd.lock().map_err(|_| Error::Parameter("a model cache was poisoned".into()))?;
        if slot.is_none() {
            let device = jnd_model::select_device(self.accelerator)?;
            *slot = Some(VpJnd::embedded(&device).map_err(|e| model_error("VP-JND", e))?);
        }
        slot.clone().ok_or_else(|| Error::Parameter("the VP-JND model is not loaded".into()))
    }

    /// The whole-picture judge.
    pub fn judge(&self) -> Result<Judge> {
        let mut slot =
            self.judge.lock().map_err(|_| Error::Parameter("a model cache was poisoned".into()))?;
        if slot.is_none() {
            let device = jnd_model::select_device(self.accelerator)?;
            *slot = Some(Judge::embedded(&device).map_err(|e| model_error("judge", e))?);
        }
        slot.clone().ok_or_else(|| Error::Parameter("the judge is not loaded".into()))
    }

    /// The DMV-JND network and its classifiers.
    pub fn dmvjnd(&self) -> Result<DmvJnd> {
        let mut slot =
            self.dmvjnd.lock().map_err(|_| Error::Parameter("a model cache was poisoned".into()))?;
        if slot.is_none() {
            let device = jnd_model::select_device(self.accelerator)?;
            *slot = Some(DmvJnd::embedded(&device).map_err(|e| model_error("DMV-JND", e))?);
        }
        slot.clone().ok_or_else(|| Error::Parameter("the DMV-JND model is not loaded".into()))
    }
}

fn model_error(name: &str, error: jnd_model::Error) -> Error {
    match Error::from(error) {
        Error::Device(message) => Error::Device(message),
        other => Error::Model(format!("loading the embedded {name} model: {other}")),
    }
}
