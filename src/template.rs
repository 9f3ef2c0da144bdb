//! Mail templates (minijinja). The defaults are built in; a `templates/` folder
//! beside `series/` overrides them file by file.

use std::path::Path;

use minijinja::{Environment, Value};

/// The built-in cover letter layout.
pub const COVER_LETTER: &str = include_str!("../templates/cover-letter.txt");

/// A template that failed to load or render, named by file.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {msg}")]
pub struct TemplateError {
    pub file: String,
    pub msg: String,
}

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // A bound on the work one rendering may do, so that a template loop
    // that does not end (nested ranges, say) is an error, not a hang.
    env.set_fuel(Some(FUEL));
    env
}

/// Instructions one rendering may run: a cover letter takes a few thousand.
const FUEL: u64 = 2_000_000;

/// Render the template `name` (from `project/templates/` when present, else
/// the built-in `default`) with `ctx`.
pub fn render_named(
    project: &Path,
    name: &str,
    default: &str,
    ctx: Value,
) -> Result<String, TemplateError> {
    let local = project.join("templates").join(name);
    let (source, file) = match std::fs::read_to_string(&local) {
        Ok(s) => (s, local.display().to_string()),
        Err(_) => (default.to_string(), format!("built-in {name}")),
    };
    render_str(&file, &source, ctx)
}

/// Render template text `source` (called `file` in errors) with `ctx`.
pub fn render_str(file: &str, source: &str, ctx: Value) -> Result<String, TemplateError> {
    render_with(file, source, ctx, |_| {})
}

/// Render with extra functions registered by `setup` (for `cover.md`).
pub fn render_with(
    file: &str,
    source: &str,
    ctx: Value,
    setup: impl FnOnce(&mut Environment<'static>),
) -> Result<String, TemplateError> {
    let mut env = env();
    setup(&mut env);
    let err = |e: minijinja::Error| TemplateError {
        file: file.to_string(),
        msg: if e.kind() == minijinja::ErrorKind::OutOfFuel {
            format!("the template did more than {FUEL} steps and was stopped; is there a loop that does not end?")
        } else {
            match e.line() {
                Some(l) => format!("line {l}: {}", e.detail().unwrap_or(&e.to_string())),
                None => e.to_string(),
            }
        },
    };
    let tmpl = env.template_from_str(source).map_err(err)?;
    tmpl.render(ctx).map_err(err)
}

impl crate::error::Advice for TemplateError {
    fn hint(&self) -> Option<String> {
        crate::error::says("fix the template; docs/FORMAT.md lists what templates can use")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_template_loop_runs_out_of_fuel() {
        let e = super::render_str(
            "cover.md",
            "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}",
            minijinja::Value::UNDEFINED,
        )
        .unwrap_err();
        assert!(e.to_string().contains("was stopped"), "{e}");
    }
}
