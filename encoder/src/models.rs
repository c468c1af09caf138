//! The embedded models of a plan, loaded on first use on one device and shared by every plan built
//! with the same cache.

use std::sync::Mutex;

use jnd_model::Accelerator;
use jnd_model::dmvjnd::{ClassifierGradients, DmvJnd};
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
    gradients: Mutex<Option<ClassifierGradients>>,
}

impl Models {
    /// An empty cache whose models will run on `accelerator`, checked here to be compiled in and
    /// usable on this machine (a one-line error otherwise, before any input is read). The CPU
    /// ([`Models::default`]) always is.
    pub fn on(accelerator: Accelerator) -> Result<Self> {
        jnd_model::select_device(accelerator)?;
        Ok(Self { accelerator, ..Self::default() })
    }

    /// The DMV-JND's four classifiers on the autodiff device, for their input gradients.
    pub fn classifier_gradients(&self) -> Result<ClassifierGradients> {
        self.load(&self.gradients, "the classifiers' gradients", |a| {
            ClassifierGradients::embedded(&jnd_model::select_device(a)?)
        })
    }

    /// Where the models run.
    pub fn accelerator(&self) -> Accelerator {
        self.accelerator
    }

    /// The VP-JND network.
    pub fn vpjnd(&self) -> Result<VpJnd> {
        self.load(&self.vpjnd, "VP-JND", |a| VpJnd::embedded(&jnd_model::select_device(a)?))
    }

    /// The whole-picture judge.
    pub fn judge(&self) -> Result<Judge> {
        self.load(&self.judge, "judge", |a| Judge::embedded(&jnd_model::select_device(a)?))
    }

    /// The DMV-JND network and its classifiers.
    pub fn dmvjnd(&self) -> Result<DmvJnd> {
        self.load(&self.dmvjnd, "DMV-JND", |a| DmvJnd::embedded(&jnd_model::select_device(a)?))
    }

    /// The model in `slot`, loaded by `embedded` on this cache's accelerator the first time it is
    /// asked for.
    fn load<T: Clone>(
        &self,
        slot: &Mutex<Option<T>>,
        name: &str,
        embedded: impl FnOnce(Accelerator) -> jnd_model::Result<T>,
    ) -> Result<T> {
        let mut slot = slot.lock().map_err(|_| Error::Parameter("a model cache was poisoned".into()))?;
        if slot.is_none() {
            *slot = Some(embedded(self.accelerator).map_err(|e| model_error(name, e))?);
        }
        slot.clone().ok_or_else(|| Error::Parameter(format!("the {name} model is not loaded")))
    }
}

fn model_error(name: &str, error: jnd_model::Error) -> Error {
    match Error::from(error) {
        Error::Device(message) => Error::Device(message),
        other => Error::Model(format!("loading the embedded {name} model: {other}")),
    }
}
