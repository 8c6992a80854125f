/// Settings a detector refuses to run with. Each problem names its setting as the configuration
/// file spells it (`aml.flag_risk_score must lie in 0..=100`), so that an operator or an embedder
/// can fix every one of them at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl ConfigError {
    /// The failed `checks` (`(failed, message)`), each message prefixed with `section.`; `Ok` when
    /// none failed.
    pub fn check(section: &str, checks: &[(bool, &str)]) -> Result<(), Self> {
        let problems: Vec<String> = checks
            .iter()
            .filter(|(failed, _)| *failed)
            .map(|(_, message)| format!("{section}.{message}"))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Self { problems })
        }
    }

    /// Every problem of all `results`, for a caller that checks several sections at once.
    pub fn merge(results: impl IntoIterator<Item = Result<(), Self>>) -> Result<(), Self> {
        let problems: Vec<String> = results
            .into_iter()
            .filter_map(Result::err)
            .flat_map(|error| error.problems)
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Self { problems })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_failed_setting_under_its_section() {
        let error = ConfigError::check(
            "aml",
            &[
                (true, "a must be 1"),
                (false, "b is fine"),
                (true, "c must be 2"),
            ],
        )
        .expect_err("two checks failed");
        assert_eq!(error.problems, ["aml.a must be 1", "aml.c must be 2"]);
        assert_eq!(error.to_string(), "aml.a must be 1; aml.c must be 2");
        assert_eq!(ConfigError::check("aml", &[(false, "fine")]), Ok(()));
    }

    #[test]
    fn merging_keeps_every_problem_in_order() {
        let merged = ConfigError::merge([
            ConfigError::check("aml", &[(true, "a")]),
            Ok(()),
            ConfigError::check("credit", &[(true, "b")]),
        ]);
        assert_eq!(
            merged.expect_err("two sections failed").problems,
            ["aml.a", "credit.b"]
        );
        assert_eq!(ConfigError::merge([Ok(()), Ok(())]), Ok(()));
    }
}
