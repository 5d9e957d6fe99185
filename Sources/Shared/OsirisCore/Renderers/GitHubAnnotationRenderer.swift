/// Renders GitHub Actions workflow commands, which the Actions runner shows as annotations:
///
/// ```
/// ::error file=shop.oml,line=11,col=13,endLine=11,endColumn=19,title=OML104::needs names unknown step 'extrct'
/// ```
public struct GitHubAnnotationRenderer: DiagnosticRenderer {
    /// A GitHub annotation renderer.
    public init() {}

    public mutating func render(_ diagnostics: [Diagnostic], source: SourceText?) -> [UInt8] {
        var output = ""
        for diagnostic in diagnostics {
            let command: String
            switch diagnostic.severity {
            case .error: command = "error"
            case .warning: command = "warning"
            case .note: command = "notice"
            }
            let range = diagnostic.range
            var properties = "file=\(escapeProperty(diagnostic.file)),line=\(range.start.line),col=\(range.start.column)"
            properties += ",endLine=\(range.end.line),endColumn=\(range.end.column),title=\(escapeProperty(diagnostic.code))"
            var message = diagnostic.message
            if let help = diagnostic.help { message += "\nhelp: \(help)" }
            output += "::\(command) \(properties)::\(escapeData(message))\n"
        }
        return Array(output.utf8)
    }

    public mutating func finish(summary: DiagnosticSummary) -> [UInt8] { [] }

    private func escapeData(_ text: String) -> String {
        text.replacingAll("%", with: "%25").replacingAll("\r", with: "%0D").replacingAll("\n", with: "%0A")
    }

    private func escapeProperty(_ text: String) -> String {
        escapeData(text).replacingAll(":", with: "%3A").replacingAll(",", with: "%2C")
    }
}

extension String {
    /// Every occurrence of `target` replaced, without Foundation.
    package func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
