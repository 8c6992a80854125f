//! Rule sets as data: what a module's published rule set changes in its detector, checking a
//! draft before it is written or published, and the versions in force.
//!
//! A rule set holds thresholds (the module's settings to use instead of the config file's), the
//! built-in rules switched off, and custom rules (see `redflag-rules`). Version 1 of each module
//! is the config file itself (an empty rule set), published at start when the module has none,
//! so that every decision names the version that made it.

use std::sync::Arc;

use redflag_aml::AmlDetector;
use redflag_core::Module;
use redflag_credit::CreditDetector;
use redflag_insurance::InsuranceDetector;
use redflag_market::MarketDetector;
use redflag_rules::{CompiledRules, Customisable, FeatureSpec, Lists, RuleError, RuleSetDocument};
use redflag_store::{Database, DraftContent};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::ServiceError;
use crate::settings::Settings;

/// The features a module's custom rules read.
pub fn catalogue(module: Module) -> &'static [FeatureSpec] {
    match module {
        Module::Aml => AmlDetector::CATALOGUE,
        Module::Market => MarketDetector::CATALOGUE,
        Module::Insurance => InsuranceDetector::CATALOGUE,
        Module::Credit => CreditDetector::CATALOGUE,
    }
}

/// A module's rule set in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub module: Module,
    pub version: i64,
    pub document: RuleSetDocument,
}

/// Every module's rule set in force and the lists, as a serving process loads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSets {
    pub published: Vec<Published>,
    /// Shared by every rule set compiled against them.
    pub lists: Arc<Lists>,
}

/// What changes when a rule set is published, a list changes or a shadow run starts or stops:
/// polled cheaply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamp {
    versions: Vec<(String, i64)>,
    lists: (i64, Option<chrono::DateTime<chrono::Utc>>),
    shadows: Vec<i64>,
}

impl Stamp {
    pub fn read(db: &Database) -> Result<Self, ServiceError> {
        Ok(Self {
            versions: db.published_rule_set_versions()?,
            lists: db.rule_lists_stamp()?,
            shadows: db.running_shadow_ids()?,
        })
    }
}

impl RuleSets {
    /// Reads the rule sets in force and the lists.
    pub fn read(db: &Database) -> Result<Self, ServiceError> {
        let mut published = Vec::new();
        for module in crate::registry::MODULES.map(|registered| registered.spec.module) {
            if let Some(stored) = db.published_rule_set(module.as_str())? {
                let document = serde_json::from_str(&stored.document)
                    .map_err(ServiceError::json(format!("{module} rule set")))?;
                published.push(Published {
                    module,
                    version: stored.version.unwrap_or_default(),
                    document,
                });
            }
        }
        Ok(Self {
            published,
            lists: read_lists(db)?,
        })
    }

    /// Puts `document` in force for `module` as a draft (version 0): what a backtest replays.
    pub fn replace(&mut self, module: Module, document: RuleSetDocument) {
        self.published
            .retain(|published| published.module != module);
        self.published.push(Published {
            module,
            version: 0,
            document,
        });
    }

    pub fn of(&self, module: Module) -> Option<&Published> {
        self.published
            .iter()
            .find(|published| published.module == module)
    }

    /// The version of `module`'s rule set in force, when it has one.
    pub fn version(&self, module: Module) -> Option<i64> {
        self.of(module).map(|published| published.version)
    }

    /// `module`'s settings with the rule set's thresholds in place of the config file's.
    pub fn config<C: Serialize + DeserializeOwned>(
        &self,
        module: Module,
        base: &C,
    ) -> Result<C, ServiceError> {
        let Some(published) = self.of(module) else {
            return merged(base, &Map::new()).map_err(|problems| invalid(module, problems));
        };
        merged(base, &published.document.thresholds).map_err(|problems| invalid(module, problems))
    }

    /// `module`'s engine with its rule set's switches and custom rules.
    pub fn apply<D: Customisable>(&self, module: Module, detector: D) -> Result<D, ServiceError> {
        let Some(published) = self.of(module) else {
            return Ok(detector);
        };
        let compiled = compile(module, published.version, &published.document, &self.lists)
            .map_err(|errors| invalid(module, errors.iter().map(ToString::to_string).collect()))?;
        detector
            .with_rule_set(&published.document.disabled, Arc::new(compiled))
            .map_err(|problem| invalid(module, vec![problem]))
    }
}

fn invalid(module: Module, problems: Vec<String>) -> ServiceError {
    ServiceError::RuleSet {
        module,
        problems: problems.join("; "),
    }
}

/// Every list, as rules read them.
pub fn read_lists(db: &Database) -> Result<Arc<Lists>, ServiceError> {
    let mut lists = Lists::default();
    for (name, values) in db.rule_list_values()? {
        lists.insert(name, values);
    }
    Ok(Arc::new(lists))
}

/// Compiles a rule set's custom rules for `module`.
pub fn compile(
    module: Module,
    version: i64,
    document: &RuleSetDocument,
    lists: &Arc<Lists>,
) -> Result<CompiledRules, Vec<RuleError>> {
    CompiledRules::compile(
        module.as_str(),
        version,
        &document.rules,
        catalogue(module),
        Arc::clone(lists),
    )
}

/// Settings that stay in the config file: paths and secrets are the operator's.
fn operator_only(key: &str) -> bool {
    key.ends_with("_file") || key.ends_with("_key")
}

/// `base` with `thresholds` in place of its own values; every problem named by setting.
fn merged<C: Serialize + DeserializeOwned>(
    base: &C,
    thresholds: &Map<String, Value>,
) -> Result<C, Vec<String>> {
    let Ok(Value::Object(mut settings)) = serde_json::to_value(base) else {
        return Err(vec!["the settings do not read as an object".to_owned()]);
    };
    let mut problems = Vec::new();
    for (key, value) in thresholds {
        if !settings.contains_key(key) {
            problems.push(format!("`{key}` is not a setting of this module"));
        } else if operator_only(key) {
            problems.push(format!("`{key}` is set in the config file only"));
        } else {
            settings.insert(key.clone(), value.clone());
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    serde_json::from_value(Value::Object(settings)).map_err(|error| vec![error.to_string()])
}

/// Most built-in rules one rule set switches off (every module has fewer).
const MAX_DISABLED: usize = 50;

/// Why a draft cannot be written or published: a DRF-shaped body, by field and, for rules, by
/// rule (`{"rules": [{}, {"when": ["line 1, column 17: ..."]}]}`).
#[derive(Debug, Clone, PartialEq)]
pub struct DraftErrors(pub Value);

/// Reads and checks a draft's document against the deployment's settings and the lists: the
/// thresholds give valid settings, the switched-off rules exist, the custom rules compile.
/// Returns the document and the SHA-256 of its canonical form.
pub fn check_draft(
    module: Module,
    body: &Value,
    settings: &Settings,
    lists: &Arc<Lists>,
) -> Result<(RuleSetDocument, String), DraftErrors> {
    let document: RuleSetDocument = serde_json::from_value(body.clone())
        .map_err(|error| DraftErrors(json!({"non_field_errors": [error.to_string()]})))?;
    let mut errors = Map::new();
    if document.disabled.len() > MAX_DISABLED {
        errors.insert(
            "disabled".to_owned(),
            json!([format!("at most {MAX_DISABLED} rules can be switched off")]),
        );
    }
    match built_in_rules(module, settings, &document.thresholds) {
        Err(problems) => {
            errors.insert("thresholds".to_owned(), json!(problems));
        }
        Ok(known) => {
            let unknown: Vec<String> = document
                .disabled
                .iter()
                .filter(|name| !known.contains(&name.as_str()))
                .map(|name| {
                    format!(
                        "no built-in rule is named `{name}`; the rules are {}",
                        known.join(", ")
                    )
                })
                .collect();
            if !unknown.is_empty() {
                errors.insert("disabled".to_owned(), json!(unknown));
            }
        }
    }
    if let Err(problems) = compile(module, 0, &document, lists) {
        let mut by_rule = vec![Map::new(); document.rules.len()];
        for problem in problems {
            let message = match (problem.line, problem.column) {
                (Some(line), Some(column)) => {
                    format!("line {line}, column {column}: {}", problem.message)
                }
                _ => problem.message,
            };
            if let Some(fields) = by_rule.get_mut(problem.index) {
                let messages = fields
                    .entry(problem.field.to_owned())
                    .or_insert_with(|| json!([]));
                if let Value::Array(messages) = messages {
                    messages.push(json!(message));
                }
            }
        }
        errors.insert("rules".to_owned(), json!(by_rule));
    }
    if !errors.is_empty() {
        return Err(DraftErrors(Value::Object(errors)));
    }
    let canonical = serde_json::to_string(&document)
        .map_err(|error| DraftErrors(json!({"non_field_errors": [error.to_string()]})))?;
    Ok((document, redflag_audit::digest(&canonical)))
}

/// The built-in rules a rule set may switch off, once its thresholds make valid settings.
fn built_in_rules(
    module: Module,
    settings: &Settings,
    thresholds: &Map<String, Value>,
) -> Result<Vec<&'static str>, Vec<String>> {
    match module {
        Module::Aml => {
            let config = merged(&settings.aml, thresholds)?;
            Ok(AmlDetector::new(config)
                .map_err(|error| error.problems)?
                .builtin_rules())
        }
        Module::Credit => {
            let config = merged(&settings.credit, thresholds)?;
            Ok(CreditDetector::new(config)
                .map_err(|error| error.problems)?
                .builtin_rules())
        }
        Module::Insurance => {
            let config = merged(&settings.insurance, thresholds)?;
            Ok(InsuranceDetector::new(config)
                .map_err(|error| error.problems)?
                .builtin_rules())
        }
        Module::Market => {
            let config = merged(&settings.market, thresholds)?;
            Ok(MarketDetector::new(config)
                .map_err(|error| error.problems)?
                .builtin_rules())
        }
    }
}

/// The canonical empty rule set (the config file as it stands) and its hash: version 1.
fn first_document() -> (String, String) {
    let document =
        serde_json::to_string(&RuleSetDocument::default()).unwrap_or_else(|_| "{}".to_owned());
    let sha = redflag_audit::digest(&document);
    (document, sha)
}

/// Publishes version 1 of every module that has no rule set yet (see the module docs).
pub fn publish_first(db: &Database) -> Result<(), ServiceError> {
    let (document, sha256) = first_document();
    for module in crate::registry::MODULES.map(|registered| registered.spec.module) {
        let content = DraftContent {
            document: &document,
            sha256: &sha256,
            description: "The config file's settings, as deployed",
        };
        if db.publish_first_rule_set(module.as_str(), content, chrono::Utc::now())? {
            tracing::info!(%module, "published rule set version 1: the config file's settings");
        }
    }
    Ok(())
}
