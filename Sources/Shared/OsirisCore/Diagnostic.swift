/// How serious a finding is.
public enum Severity: String, Sendable, Hashable, Comparable, CaseIterable {
    /// The input is wrong; the tool's answer is no (exit status 1).
    case error
    /// The input is suspicious but usable; fails only under `--strict`.
    case warning
    /// Extra information attached to another finding.
    case note

    private var rank: Int {
        switch self {
        case .error: 0
        case .warning: 1
        case .note: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// One finding about an input file, the single diagnostic type of every Osiris tool.
///
/// Messages start lowercase, have no trailing period and put user-supplied names in 'single quotes'.
public struct Diagnostic: Sendable, Hashable {
    /// A secondary location that helps explain the finding ("first defined here").
    public struct Note: Sendable, Hashable {
        /// What the note says.
        public var message: String
        /// The file the note points into, when it differs from the diagnostic's.
        public var file: String?
        /// Where the note points.
        public var range: SourceRange?

        /// Creates a note.
        public init(_ message: String, file: String? = nil, range: SourceRange? = nil) {
            self.message = message
            self.file = file
            self.range = range
        }
    }

    /// The stable code, such as `OML104`.
    public var code: String
    /// Error, warning or note.
    public var severity: Severity
    /// What is wrong, in one lowercase sentence without a trailing period.
    public var message: String
    /// The file the finding is about, as the user named it (`-` or the `--stdin-filename` for stdin).
    public var file: String
    /// The offending text.
    public var range: SourceRange
    /// Further locations that explain the finding.
    public var notes: [Note]
    /// At most one suggestion, such as "did you mean 'extract'?".
    public var help: String?

    /// Creates a diagnostic.
    public init(
        code: String, severity: Severity, message: String, file: String, range: SourceRange,
        notes: [Note] = [], help: String? = nil
    ) {
        self.code = code
        self.severity = severity
        self.message = message
        self.file = file
        self.range = range
        self.notes = notes
        self.help = help
    }

    /// The order findings are printed in: by file position, then code.
    public static func byPosition(_ lhs: Diagnostic, _ rhs: Diagnostic) -> Bool {
        if lhs.range.start != rhs.range.start { return lhs.range.start < rhs.range.start }
        if lhs.code != rhs.code { return lhs.code < rhs.code }
        return lhs.message < rhs.message
    }
}

/// What a rule or check is, for SARIF rule metadata and `--explain`.
public struct RuleDescriptor: Sendable, Hashable {
    /// The stable code, such as `OML104`.
    public var code: String
    /// The rule's name in UpperCamelCase, such as `UnknownStepDependency`.
    public var name: String
    /// The severity findings of this rule usually have.
    public var defaultSeverity: Severity
    /// One line saying what the rule finds.
    public var summary: String
    /// The full documentation printed by `--explain`, in plain text.
    public var documentation: String

    /// Creates a rule descriptor.
    public init(code: String, name: String, defaultSeverity: Severity, summary: String, documentation: String) {
        self.code = code
        self.name = name
        self.defaultSeverity = defaultSeverity
        self.summary = summary
        self.documentation = documentation
    }
}
