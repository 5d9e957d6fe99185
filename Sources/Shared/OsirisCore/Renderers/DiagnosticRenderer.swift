/// The output formats every tool that reports diagnostics accepts with `--format`.
public enum DiagnosticFormat: String, Sendable, CaseIterable {
    /// `FILE:LINE:COL: SEVERITY: MESSAGE [CODE]`, the source line, a caret and `help:`.
    case text
    /// One JSON object per finding, one per line.
    case json
    /// One SARIF 2.1.0 log with rule metadata.
    case sarif
    /// GitHub Actions workflow annotations.
    case github
}

/// How many findings a run produced, for closing summaries and exit statuses.
public struct DiagnosticSummary: Sendable, Equatable {
    /// Number of files examined.
    public var files = 0
    /// Number of error findings.
    public var errors = 0
    /// Number of warning findings.
    public var warnings = 0

    /// An empty summary.
    public init() {}

    /// Counts the findings of one file.
    public mutating func add(fileDiagnostics: [Diagnostic]) {
        files += 1
        for diagnostic in fileDiagnostics {
            switch diagnostic.severity {
            case .error: errors += 1
            case .warning: warnings += 1
            case .note: break
            }
        }
    }
}

/// Turns diagnostics into bytes for one output format. Renderers are fed one file at a time, in order,
/// and may hold findings back until `finish` (SARIF writes one document).
public protocol DiagnosticRenderer {
    /// The bytes to print for one file's findings; `source` is used to quote lines.
    mutating func render(_ diagnostics: [Diagnostic], source: SourceText?) -> [UInt8]
    /// The bytes to print after the last file.
    mutating func finish(summary: DiagnosticSummary) -> [UInt8]
}

/// Creates the renderer for a format.
public func makeRenderer(
    format: DiagnosticFormat, toolName: String, toolVersion: String, rules: [RuleDescriptor], useColor: Bool
) -> any DiagnosticRenderer {
    switch format {
    case .text: TextRenderer(useColor: useColor)
    case .json: JSONLinesRenderer()
    case .sarif: SARIFRenderer(toolName: toolName, toolVersion: toolVersion, rules: rules)
    case .github: GitHubAnnotationRenderer()
    }
}
