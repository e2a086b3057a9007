//! The sitting's workflow steps as `meta/workflow` lists them: what they
//! are, where they come from, and how their actions and dates are written.

use super::dates::{format_date, parse_date};
use super::slug;
use crate::export::model::SessionExport;

/// One step of the sitting's workflow, as `meta/workflow/step` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowStep {
    /// When: an `xsd:date` or `xsd:dateTime` (anything else is cut to its
    /// date, or left out).
    pub date: String,
    /// What: a short name such as `recorded`, `checked`, `approved` or
    /// `published`, referred to as a `TLCConcept`.
    pub action: String,
    /// Who, by account name; `None` for the Assembly itself.
    pub by: Option<String>,
}

/// The sitting's steps: its recording (when it entered the store), then
/// its workflow's moves forward ([`SessionExport::workflow`]: checked,
/// approved, published, final, by whom); for a version, up to its
/// publication.
pub fn sitting_steps(export: &SessionExport) -> Vec<WorkflowStep> {
    let recorded = WorkflowStep {
        date: export.session.created_at.clone(),
        action: "recorded".into(),
        by: None,
    };
    let moves = export.workflow.iter().map(|s| WorkflowStep {
        date: s.at.clone(),
        action: s.to.clone(),
        by: Some(s.actor.clone()),
    });
    std::iter::once(recorded).chain(moves).collect()
}

/// The eId of a workflow action's `TLCConcept`: prefixed, so that no
/// action can take another reference's eId.
pub(super) fn action_eid(action: &str) -> String {
    format!("workflow-{}", slug(action))
}

/// The Vietnamese name of a workflow action.
pub(super) fn action_label(action: &str) -> Option<&'static str> {
    Some(match action {
        "recorded" => "Ghi nhận",
        "checked" => "Đã kiểm tra",
        "approved" => "Đã duyệt",
        "published" => "Đã công bố",
        "final" => "Bản chính thức",
        _ => return None,
    })
}

/// A step's date as the schema takes it: a date, or a date and time.
pub(super) fn step_date(step: &WorkflowStep) -> Option<String> {
    let date = step.date.trim();
    let day = parse_date(date)?;
    let rest = &date[10..];
    let time_like = rest.starts_with('T')
        && rest.len() >= 9
        && rest[1..]
            .chars()
            .all(|c| c.is_ascii_digit() || ":.Z+-".contains(c));
    Some(if time_like {
        format!("{}{rest}", format_date(day))
    } else {
        format_date(day)
    })
}
