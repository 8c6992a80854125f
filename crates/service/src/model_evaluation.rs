//! `redflag model evaluate`: how a model would do on a team's own history before they switch it
//! on. Trains on one labelled CSV, measures on another, prints the report and can write each
//! test row's score.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::ServiceError;
use redflag_ml_core::{Evaluation, LabelledTable, ModelKind, Positive, evaluate};

/// What to evaluate, as the command line gives it.
pub struct EvaluationRequest {
    pub kind: ModelKind,
    pub train: PathBuf,
    pub test: PathBuf,
    pub label: String,
    /// The positive label value; `None`: 1/0, true/false, yes/no.
    pub positive: Option<String>,
    /// Where each test row's score goes (CSV: line, label, score).
    pub scores: Option<PathBuf>,
    pub seed: u64,
}

/// Runs the evaluation; returns the report to print.
pub fn run(request: &EvaluationRequest) -> Result<String, ServiceError> {
    let positive = request
        .positive
        .clone()
        .map_or(Positive::Conventional, Positive::Value);
    let training = LabelledTable::read(&request.train, &request.label, &positive)?;
    let test = LabelledTable::read_like(&request.test, &training, &request.label, &positive)?;
    let evaluation = evaluate(request.kind, &training, &test, request.seed)?;
    if let Some(path) = &request.scores {
        write_scores(path, &test, &evaluation)?;
    }
    Ok(report(request, &evaluation))
}

fn write_scores(
    path: &Path,
    test: &LabelledTable,
    evaluation: &Evaluation,
) -> Result<(), ServiceError> {
    let mut text = String::from("line,label,score\n");
    for ((line, label), score) in test.lines.iter().zip(&test.labels).zip(&evaluation.scores) {
        let _ = writeln!(text, "{line},{},{score}", u8::from(*label));
    }
    std::fs::write(path, text).map_err(|source| ServiceError::Write {
        path: path.to_owned(),
        source,
    })
}

fn figure(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |value| format!("{value:.4}"))
}

fn report(request: &EvaluationRequest, evaluation: &Evaluation) -> String {
    let kind = match evaluation.kind {
        ModelKind::Logistic => "logistic regression",
        ModelKind::Scorecard => "scorecard",
        ModelKind::IsolationForest => "isolation forest",
        ModelKind::Gbm => "monotone gradient-boosted trees",
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{kind}: trained on {} ({} rows, {} positive), measured on {} ({} rows, {} positive)",
        request.train.display(),
        evaluation.training_rows,
        evaluation.training_positives,
        request.test.display(),
        evaluation.test_rows,
        evaluation.test_positives
    );
    let _ = writeln!(out, "ROC AUC {}", figure(evaluation.roc_auc));
    let _ = writeln!(
        out,
        "average precision {}",
        figure(evaluation.average_precision)
    );
    let _ = writeln!(out, "KS {}", figure(evaluation.ks));
    let _ = writeln!(out, "Gini {}", figure(evaluation.gini));
    let _ = writeln!(
        out,
        "Brier {}",
        evaluation.brier.map_or_else(
            || "n/a (the scores are not probabilities)".to_owned(),
            |brier| format!("{brier:.4}")
        )
    );
    let _ = writeln!(out, "\ncalibration (ten bins by score, lowest first):");
    let _ = writeln!(out, "rows  scores            mean score  positive rate");
    for bin in &evaluation.calibration {
        let _ = writeln!(
            out,
            "{:<5} {:.4}-{:.4}     {:.4}      {:.4}",
            bin.rows, bin.lowest_score, bin.highest_score, bin.mean_score, bin.positive_rate
        );
    }
    let _ = writeln!(
        out,
        "\ntop features ({}):",
        match evaluation.kind {
            ModelKind::Logistic => "mean absolute share of the log-odds",
            ModelKind::Scorecard => "information value",
            ModelKind::IsolationForest => "mean share of the isolating splits",
            ModelKind::Gbm => "share of the split gain",
        }
    );
    for (name, weight) in evaluation.top_features.iter().take(10) {
        let _ = writeln!(out, "{name} {weight:.4}");
    }
    if let Some(path) = &request.scores {
        let _ = writeln!(out, "\nscores written to {}", path.display());
    }
    out
}
