use std::fmt;

/// Bad input, said so a person can fix it: where (file, object, field), what is wrong, and
/// what would be valid. Every loader error becomes exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    /// `Kind ns/name`, or `document N` when the object has no name yet.
    pub object: Option<String>,
    /// A JSON-path-like field, e.g. `spec.ingress[0].from[1].ipBlock.cidr`.
    pub field: Option<String>,
    pub message: String,
}

impl InputError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError {
            file: file.into(),
            object: None,
            field: None,
            message: message.into(),
        }
    }

    pub fn object(mut self, object: impl Into<String>) -> InputError {
        self.object = Some(object.into());
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> InputError {
        let field = field.into();
        self.field = Some(match self.field.take() {
            Some(inner) if !inner.is_empty() => format!("{field}.{inner}"),
            _ => field,
        });
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(o) = &self.object {
            write!(f, ": {o}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InputError {}

/// An error inside one object, before the file and object are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}
