//! Every module the service runs, one line each: its description (`Detector::SPEC`, written in
//! its own crate) and the synthetic data its first model is trained on. The model registry, the
//! calibration, the periodic tasks, the command line and the API document read this list; a
//! new module is its crate, a line here, its detector in `Detectors` and its route.

use redflag_aml::AmlDetector;
use redflag_core::{Detector, Learning, Module, ModuleSpec};
use redflag_credit::CreditDetector;
use redflag_insurance::InsuranceDetector;
use redflag_market::MarketDetector;
use redflag_ml_core::TrainingSet;

/// A module as the service runs it.
#[derive(Debug, Clone, Copy)]
pub struct Registered {
    pub spec: ModuleSpec,
    /// Rows of the module's synthetic traffic (`rows`, `seed`): the defaults a model is trained
    /// on before the deployment has its own.
    pub synthetic: fn(usize, u64) -> TrainingSet,
}

/// The modules, in the order the dashboard lists them.
pub const MODULES: [Registered; 4] = [
    Registered {
        spec: AmlDetector::SPEC,
        synthetic: redflag_aml::model::synthetic,
    },
    Registered {
        spec: CreditDetector::SPEC,
        synthetic: redflag_credit::model::synthetic,
    },
    Registered {
        spec: InsuranceDetector::SPEC,
        synthetic: redflag_insurance::model::synthetic,
    },
    Registered {
        spec: MarketDetector::SPEC,
        synthetic: redflag_market::model::synthetic,
    },
];

/// The module's entry.
pub fn of(module: Module) -> &'static Registered {
    MODULES
        .iter()
        .find(|registered| registered.spec.module == module)
        .expect("every module is registered (checked by registry::tests)")
}

/// Whether the module's model learns from unlabelled traffic: an anomaly model, retrained on
/// recent decisions, whose alert is calibrated to the deployment.
pub fn learns_from_traffic(module: Module) -> bool {
    of(module).spec.learning == Learning::Anomaly
}

/// The modules whose models learn from unlabelled traffic.
pub fn anomaly_modules() -> impl Iterator<Item = Module> {
    MODULES
        .iter()
        .map(|registered| registered.spec.module)
        .filter(|module| learns_from_traffic(*module))
}

/// The module names, as paths, filters and the API document spell them.
pub fn names() -> impl Iterator<Item = &'static str> {
    MODULES
        .iter()
        .map(|registered| registered.spec.module.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_is_registered_once_with_its_own_features() {
        for module in Module::ALL {
            let registered = MODULES
                .iter()
                .filter(|registered| registered.spec.module == module)
                .count();
            assert_eq!(registered, 1, "{module}");
            let set = (of(module).synthetic)(50, 1);
            assert_eq!(
                set.features,
                of(module).spec.model_features,
                "{module}: the synthetic data has the model's features"
            );
        }
        assert_eq!(
            anomaly_modules().collect::<Vec<_>>(),
            [Module::Aml, Module::Insurance, Module::Market]
        );
        assert_eq!(
            names().collect::<Vec<_>>(),
            ["aml", "credit", "insurance", "market"]
        );
    }
}
