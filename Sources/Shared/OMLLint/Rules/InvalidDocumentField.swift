import OsirisCore

/// OML016: description is not a string, or metadata is not a mapping.
struct InvalidDocumentField: Rule {
    static let descriptor = RuleDescriptor(
        code: "OML016", name: "InvalidDocumentField", defaultSeverity: .error,
        summary: "description not a string, or metadata not a mapping",
        documentation: """
            `description` is one line of text about the pipeline and `metadata` a mapping of free-form \
            keys; both are copied into the manifest. A number or list as description, or a scalar as \
            metadata, is almost always a mistake in indentation. The finding points at the value.
            """)

    static func check(_ context: LintContext, into findings: inout [Diagnostic]) {
        if let node = context.document.entry("description")?.value, node.string == nil, node.scalar?.value != .null {
            findings.append(finding(context, at: node.range, "description must be a string, not \(withArticle(node.kindName))",
                                    help: "quote it if it is meant as text"))
        }
        if let node = context.document.entry("metadata")?.value, node.mapping == nil, node.scalar?.value != .null {
            findings.append(finding(context, at: node.range, "metadata must be a mapping, not \(withArticle(node.kindName))",
                                    help: "write it as 'metadata: {key: value}'"))
        }
    }
}
