import OML
import OsirisCore
import OsirisYAML

/// The result of linting one file.
public struct LintResult: Sendable {
    /// The findings, sorted by position, suppressions applied.
    public let diagnostics: [Diagnostic]
    /// The file's text, for renderers that quote source lines.
    public let source: SourceText
    /// The document, when the file parsed as a YAML mapping (nil after OML001, OML002 or OML003).
    public let document: OMLDocument?

    /// Whether any finding is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Lints OML documents with every rule of DESIGN.md §10.
public struct Linter: Sendable {
    /// Every rule, in code order.
    static let rules: [any Rule.Type] = [
        YAMLSyntaxError.self, DuplicateKey.self, DocumentNotMapping.self,
        MissingTopLevelKey.self, LegacyTopLevelKey.self, UnknownTopLevelKey.self, UnsupportedOMLVersion.self,
        InvalidPipelineName.self, PipelineNameConvention.self, InvalidDocumentField.self, InvalidStepList.self,
        StepNotMapping.self, MissingStepField.self, DuplicateStepID.self, StepIDConvention.self,
        UnknownStepDependency.self, DependencyCycle.self, InvalidStepMode.self, UnsupportedStepMode.self,
        UnknownStepKey.self, MissingStepInput.self, ImplicitStepInput.self, TooManyWriterInputs.self,
        InvalidRetry.self,
        UnknownComponent.self, UnknownConfigKey.self, MissingConfigKey.self, InvalidConfigValue.self,
        ConflictingConfigKeys.self, UpsertWithoutPrimaryKey.self,
        MalformedConnectionReference.self, UnknownConnection.self, ConnectionFamilyMismatch.self,
        ForbiddenConnectionOverride.self, DiscouragedConnectionOverride.self, LiteralSecret.self,
        NonReadOnlyQuery.self, UndeclaredParam.self, InvalidParamValue.self,
        UnknownTable.self, UnknownColumn.self,
    ]

    /// The descriptors of every rule, in code order.
    public static let ruleDescriptors: [RuleDescriptor] = rules.map { $0.descriptor }

    /// The descriptor of the rule with `code` (case-insensitive), or nil.
    public static func rule(code: String) -> RuleDescriptor? {
        let wanted = code.uppercased()
        return ruleDescriptors.first { $0.code == wanted }
    }

    private let registry: ComponentRegistry
    private let connections: ConnectionsFile?
    private let snapshot: Snapshot?

    /// A linter; OML301 needs `connections`, OML400 and OML401 need `snapshot`.
    public init(registry: ComponentRegistry = .builtin, connections: ConnectionsFile? = nil, snapshot: Snapshot? = nil) {
        self.registry = registry
        self.connections = connections
        self.snapshot = snapshot
    }

    /// Lints one file's bytes; `file` is the name used in findings.
    public func lint(_ bytes: [UInt8], file: String) -> LintResult {
        let source = SourceText(bytes: bytes)
        let finish = { (findings: [Diagnostic], document: OMLDocument?) -> LintResult in
            LintResult(diagnostics: Self.finalize(findings, source: source), source: source, document: document)
        }

        // OML001, OML002 and OML003 end the examination of a file.
        let yaml: YAMLDocument
        do {
            yaml = try YAMLParser.parse(bytes)
        } catch {
            return finish([YAMLSyntaxError.diagnostic(file: file, error: error)], nil)
        }
        if !yaml.duplicateKeys.isEmpty {
            return finish(yaml.duplicateKeys.map { DuplicateKey.diagnostic(file: file, duplicate: $0) }, nil)
        }
        guard let root = yaml.root, root.mapping != nil else {
            return finish([DocumentNotMapping.diagnostic(file: file, root: yaml.root)], nil)
        }

        let document = OMLDocument(root: root)
        let context = LintContext(
            file: file, source: source, document: document, registry: registry, connections: connections, snapshot: snapshot)
        var findings: [Diagnostic] = []
        for rule in Self.rules { rule.check(context, into: &findings) }
        return finish(findings, document)
    }

    /// OML001, OML002 and OML003 end the examination, so silencing them would pass a broken file.
    static let unsuppressible: Set<String> = ["OML001", "OML002", "OML003"]

    /// Sorted by position, duplicates (from YAML aliases) removed, suppressions applied.
    private static func finalize(_ findings: [Diagnostic], source: SourceText) -> [Diagnostic] {
        let suppressions = Suppressions(source: source)
        var seen = Set<Diagnostic>()
        return findings.sorted(by: Diagnostic.byPosition).filter { finding in
            guard seen.insert(finding).inserted else { return false }
            // A file that does not parse cannot be vouched for line by line.
            if unsuppressible.contains(finding.code) { return true }
            return !suppressions.silences(code: finding.code, line: finding.range.start.line)
        }
    }
}
