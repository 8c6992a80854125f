//! Checking a rule set once, with the position of every mistake, into programs every worker
//! thread shares.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use cel::common::ast::{EntryExpr, Expr, LiteralValue};
use cel::{Env, IdedExpr, Program};
use serde::Serialize;

use crate::evaluate::Scope;
use crate::template::{self, Segment};
use crate::{CustomRule, FeatureSpec, FeatureValue, Lists};

/// Most custom rules in one rule set.
pub const MAX_RULES: usize = 100;
/// Longest condition, in characters.
pub const MAX_EXPRESSION_LENGTH: usize = 2_000;
/// Deepest nesting of brackets and sub-expressions in a condition.
pub const MAX_NESTING: usize = 32;
const MAX_NAME_LENGTH: usize = 100;
const MAX_REASON_LENGTH: usize = 1_000;

/// What is wrong with one rule, and where: the rule's index in the set and its name, the field
/// (`when`, `reason`, `name`, `confidence`), and for an expression or template the line and
/// column (1-based, in characters) of the mistake.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("rule {index} ({name}), {field}{}: {message}", position(*.line, *.column))]
pub struct RuleError {
    pub index: usize,
    pub name: String,
    pub field: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub message: String,
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
        _ => String::new(),
    }
}

/// One checked rule.
pub(crate) struct Compiled {
    pub rule: CustomRule,
    pub program: Program,
    pub reason: Vec<Segment>,
    /// The catalogue features its condition reads, shown in its alerts' metadata.
    pub reads: Vec<usize>,
}

/// A module's custom rules, checked and compiled: evaluate them on each event with
/// [`CompiledRules::evaluate`].
pub struct CompiledRules {
    pub(crate) module: &'static str,
    pub(crate) version: i64,
    pub(crate) catalogue: &'static [FeatureSpec],
    pub(crate) rules: Vec<Compiled>,
    /// Every catalogue feature a condition or a reason reads, sorted: what an event computes.
    pub(crate) needed: Vec<usize>,
    pub(crate) uses_lists: bool,
    pub(crate) lists: Arc<Lists>,
    pub(crate) env: Arc<Env>,
    /// Whether a failure of this version was logged already (each version logs its first).
    pub(crate) failure_logged: AtomicBool,
}

impl std::fmt::Debug for CompiledRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledRules")
            .field("module", &self.module)
            .field("version", &self.version)
            .field("rules", &self.names())
            .finish()
    }
}

impl CompiledRules {
    /// Checks `rules` against the module's `catalogue` and `lists` and compiles them; refuses
    /// with every mistake found. `version` names the rule set in logs. The lists are shared, not
    /// copied: a service compiles every rule set against the same ones.
    pub fn compile(
        module: &'static str,
        version: i64,
        rules: &[CustomRule],
        catalogue: &'static [FeatureSpec],
        lists: impl Into<Arc<Lists>>,
    ) -> Result<Self, Vec<RuleError>> {
        let lists: Arc<Lists> = lists.into();
        let env = Arc::new(Env::stdlib());
        let mut errors = Vec::new();
        if rules.len() > MAX_RULES {
            errors.push(RuleError {
                index: MAX_RULES,
                name: rules[MAX_RULES].name.clone(),
                field: "name",
                line: None,
                column: None,
                message: format!("a rule set holds at most {MAX_RULES} rules"),
            });
        }
        let mut seen = HashSet::new();
        let mut compiled = Vec::new();
        for (index, rule) in rules.iter().enumerate().take(MAX_RULES) {
            let mut error = |field, at: Option<(usize, usize)>, message: String| {
                errors.push(RuleError {
                    index,
                    name: rule.name.clone(),
                    field,
                    line: at.map(|(line, _)| line),
                    column: at.map(|(_, column)| column),
                    message,
                })
            };
            let name = rule.name.trim();
            if name.is_empty() || name.chars().count() > MAX_NAME_LENGTH {
                error(
                    "name",
                    None,
                    format!("a rule needs a name of 1 to {MAX_NAME_LENGTH} characters"),
                );
            } else if !seen.insert(name.to_owned()) {
                error("name", None, format!("another rule is named `{name}`"));
            }
            if rule.description.chars().count() > MAX_REASON_LENGTH {
                error(
                    "description",
                    None,
                    format!("a description has at most {MAX_REASON_LENGTH} characters"),
                );
            }
            if !(0.0..=1.0).contains(&rule.confidence) {
                error(
                    "confidence",
                    None,
                    "the confidence must lie in 0..=1".to_owned(),
                );
            }
            let reason = if rule.reason.trim().is_empty()
                || rule.reason.chars().count() > MAX_REASON_LENGTH
            {
                error(
                    "reason",
                    None,
                    format!("a rule needs a reason of 1 to {MAX_REASON_LENGTH} characters"),
                );
                None
            } else {
                match template::parse(&rule.reason, catalogue) {
                    Ok(segments) => Some(segments),
                    Err(mistake) => {
                        let chars = rule.reason[..mistake.offset].chars().count();
                        error(
                            "reason",
                            Some(line_column(&rule.reason, chars)),
                            mistake.message,
                        );
                        None
                    }
                }
            };
            let condition = check_condition(&rule.when, catalogue, &lists, &env);
            match (condition, reason) {
                (Ok((program, reads)), Some(reason)) => compiled.push(Compiled {
                    rule: CustomRule {
                        name: name.to_owned(),
                        ..rule.clone()
                    },
                    program,
                    reason,
                    reads,
                }),
                (Err((at, message)), _) => error("when", at, message),
                (Ok(_), None) => {}
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut needed: Vec<usize> = compiled
            .iter()
            .flat_map(|rule| {
                rule.reads
                    .iter()
                    .copied()
                    .chain(rule.reason.iter().filter_map(|segment| match segment {
                        Segment::Feature(index) => Some(*index),
                        Segment::Text(_) => None,
                    }))
            })
            .collect();
        needed.sort_unstable();
        needed.dedup();
        let uses_lists = compiled
            .iter()
            .any(|rule| rule.program.references().has_function("in_list"));
        Ok(Self {
            module,
            version,
            catalogue,
            rules: compiled,
            needed,
            uses_lists,
            lists,
            env,
            failure_logged: AtomicBool::new(false),
        })
    }

    /// The rule names, in evaluation order.
    pub fn names(&self) -> Vec<&str> {
        self.rules
            .iter()
            .map(|compiled| compiled.rule.name.as_str())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

type Mistake = (Option<(usize, usize)>, String);

/// Parses and checks one condition: its size and nesting, that it reads only catalogue features
/// and known lists, has no loops, and gives true or false on sample values of every feature.
/// Returns the program and the features it reads.
fn check_condition(
    when: &str,
    catalogue: &'static [FeatureSpec],
    lists: &Arc<Lists>,
    env: &Arc<Env>,
) -> Result<(Program, Vec<usize>), Mistake> {
    if when.trim().is_empty() {
        return Err((None, "a rule needs a condition".to_owned()));
    }
    if when.chars().count() > MAX_EXPRESSION_LENGTH {
        return Err((
            None,
            format!("a condition has at most {MAX_EXPRESSION_LENGTH} characters"),
        ));
    }
    // Before parsing: the parser recurses once per level.
    if let Some(at) = too_deep(when) {
        return Err((
            Some(line_column(when, at)),
            format!("a condition nests at most {MAX_NESTING} levels deep"),
        ));
    }
    let program = env.compile(when).map_err(|errors| {
        let first = errors.errors.first();
        let at = first.and_then(|error| {
            let line = usize::try_from(error.pos.0).ok()?;
            let column = usize::try_from(error.pos.1).ok()?;
            // CEL's columns count from 1 already.
            Some((line.max(1), column.max(1)))
        });
        let message = first.map_or_else(
            || "the condition does not parse".to_owned(),
            |error| format!("syntax error: {}", error.msg),
        );
        (at, message)
    })?;
    let mut walk = Walk {
        catalogue,
        lists,
        program: &program,
        source: when,
        reads: Vec::new(),
    };
    walk.expr(program.expression(), 1)?;
    let mut reads = walk.reads;
    reads.sort_unstable();
    reads.dedup();
    // Types: CEL has no checker here, so the condition is run once on a sample of every feature.
    let sample: Vec<(usize, FeatureValue)> = (0..catalogue.len())
        .map(|index| (index, FeatureValue::sample(catalogue[index].kind)))
        .collect();
    let scope = Scope::new(catalogue, &sample);
    let outcome = scope.run(env, lists, true, |context| program.execute(context));
    match outcome {
        Ok(cel::Value::Bool(_)) => Ok((program, reads)),
        Ok(other) => Err((
            Some((1, 1)),
            format!(
                "the condition must be true or false; it gives {}",
                type_name(&other)
            ),
        )),
        Err(error) => Err((Some((1, 1)), format!("type error: {error}"))),
    }
}

fn type_name(value: &cel::Value) -> &'static str {
    match value {
        cel::Value::Int(_) | cel::Value::UInt(_) => "a count",
        cel::Value::Float(_) => "a number",
        cel::Value::String(_) => "text",
        cel::Value::Null => "null",
        cel::Value::List(_) => "a list",
        cel::Value::Map(_) => "a map",
        _ => "a value that is not true or false",
    }
}

/// The character offset where brackets first nest deeper than [`MAX_NESTING`], outside string
/// literals.
fn too_deep(source: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (offset, c) in source.chars().enumerate() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '(' | '[' | '{' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Some(offset);
                    }
                }
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    None
}

/// 1-based line and column of the character at `offset`.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for c in source.chars().take(offset) {
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

/// The walk over a parsed condition that checks what it reads.
struct Walk<'a> {
    catalogue: &'static [FeatureSpec],
    lists: &'a Lists,
    program: &'a Program,
    source: &'a str,
    reads: Vec<usize>,
}

impl Walk<'_> {
    fn at(&self, node: &IdedExpr) -> Option<(usize, usize)> {
        self.program
            .source_info()
            .offset_for(node.id)
            .map(|(start, _)| line_column(self.source, start as usize))
    }

    fn feature(&self, name: &str) -> Option<usize> {
        self.catalogue
            .iter()
            .position(|feature| feature.name == name)
    }

    fn expr(&mut self, node: &IdedExpr, depth: usize) -> Result<(), Mistake> {
        if depth > MAX_NESTING {
            return Err((
                self.at(node),
                format!("a condition nests at most {MAX_NESTING} levels deep"),
            ));
        }
        match &node.expr {
            Expr::Ident(name) => match self.feature(name) {
                Some(index) if self.catalogue[index].event_field().is_none() => {
                    self.reads.push(index);
                    Ok(())
                }
                _ if name == "event" => Err((
                    self.at(node),
                    "name one of the event's fields: `event.<field>`".to_owned(),
                )),
                _ => Err((self.at(node), format!("unknown feature `{name}`"))),
            },
            Expr::Select(select) => match &select.operand.expr {
                Expr::Ident(root) if root == "event" => {
                    let name = format!("event.{}", select.field);
                    match self.feature(&name) {
                        Some(index) => {
                            self.reads.push(index);
                            Ok(())
                        }
                        None => Err((
                            self.at(node),
                            format!("the event has no field `{}`", select.field),
                        )),
                    }
                }
                _ => Err((
                    self.at(node),
                    format!(
                        "`.{}` reads a field of something that has none",
                        select.field
                    ),
                )),
            },
            Expr::Call(call) => {
                if call.func_name == "in_list" {
                    self.list_name(node, &call.args)?;
                }
                if let Some(target) = &call.target {
                    self.expr(target, depth + 1)?;
                }
                call.args
                    .iter()
                    .try_for_each(|argument| self.expr(argument, depth + 1))
            }
            Expr::Literal(_) => Ok(()),
            Expr::List(list) => list
                .elements
                .iter()
                .try_for_each(|element| self.expr(element, depth + 1)),
            Expr::Map(map) => map.entries.iter().try_for_each(|entry| match &entry.expr {
                EntryExpr::MapEntry(entry) => {
                    self.expr(&entry.key, depth + 1)?;
                    self.expr(&entry.value, depth + 1)
                }
                EntryExpr::StructField(_) => Err((self.at(node), "not a map entry".to_owned())),
            }),
            Expr::Comprehension(_) => Err((
                self.at(node),
                "loops (all, exists, exists_one, map, filter) are not available in rules"
                    .to_owned(),
            )),
            Expr::Struct(_) | Expr::Unspecified => Err((
                self.at(node),
                "messages and types are not available in rules".to_owned(),
            )),
        }
    }

    /// `in_list("name", value)`: two arguments, the first a quoted name of a known list.
    fn list_name(&self, node: &IdedExpr, arguments: &[IdedExpr]) -> Result<(), Mistake> {
        let usage = "write in_list(\"list name\", value)";
        let [name, _value] = arguments else {
            return Err((self.at(node), usage.to_owned()));
        };
        match &name.expr {
            Expr::Literal(LiteralValue::String(list)) if self.lists.has(list.inner()) => Ok(()),
            Expr::Literal(LiteralValue::String(list)) => {
                let list = list.inner();
                let known = self.lists.names();
                Err((
                    self.at(name),
                    if known.is_empty() {
                        format!("no list is named `{list}` (there are no lists yet)")
                    } else {
                        format!(
                            "no list is named `{list}`; the lists are {}",
                            known.join(", ")
                        )
                    },
                ))
            }
            _ => Err((self.at(name), usage.to_owned())),
        }
    }
}
