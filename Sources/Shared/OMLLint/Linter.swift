import OML
import OsirisCore
import OsirisYAML

/// The result of linting one file.
public struct LintResult: Sendable {
    /// The findings, sorted by position, suppressions applied.
    public let diagnostics: [Diagnostic]
    /// The file's text, for renderers that quote source lines; nil when the file is not text
    /// (a binary file), so that no line of replacement characters is quoted.
    public let source: SourceText?
    /// The document, when the file parsed as a YAML mapping (nil after OML001, OML002 or OML003).
    public let document: OMLDocument?

    /// Whether any finding is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Lints OML documents with every rule of DESIGN.md §10.
public struct Linter: Sendable {
    /// Every rule, in code order.
    static let rules: [any Rule.Type] = [
        YAMLSyntaxError.self, DuplicateKey.self, DocumentNotMapping.self, ForbiddenSuppression.self,
        MissingTopLevelKey.self, LegacyTopLevelKey.self, UnknownTopLevelKey.self, UnsupportedOMLVersion.self,
        InvalidPipelineName.self, PipelineNameConvention.self, InvalidDocumentField.self, InvalidStepList.self,
        StepNotMapping.self, MissingStepField.self, DuplicateStepID.self, StepIDConvention.self,
        UnknownStepDependency.self, DependencyCycle.self, InvalidStepMode.self, UnsupportedStepMode.self,
        UnknownStepKey.self, MissingStepInput.self, ImplicitStepInput.self, TooManyWriterInputs.self,
        InvalidRetry.self,
        UnknownComponent.self, UnknownConfigKey.self, MissingConfigKey.self, InvalidConfigValue.self,
        ConflictingConfigKeys.self, UpsertWithoutPrimaryKey.self, UnrunnableComponent.self,
        MalformedConnectionReference.self, UnknownConnection.self, ConnectionFamilyMismatch.self,
        ForbiddenConnectionOverride.self, DiscouragedConnectionOverride.self, LiteralSecret.self,
        NonReadOnlyQuery.self, UndeclaredParam.self, InvalidParamValue.self,
        UnknownTable.self, UnknownColumn.self,
    ]

    /// The descriptors of every rule, in code order; the documentation of a rule that cannot be
    /// disabled says so.
    public static let ruleDescriptors: [RuleDescriptor] = rules.map { rule in
        var descriptor = rule.descriptor
        guard unsuppressible.contains(descriptor.code) else { return descriptor }
        let what = suppressibleWarnings.contains(descriptor.code) ? "Its errors" : "This rule"
        descriptor.documentation += "\n\n\(what) cannot be disabled: without it the manifest would be undefined. "
            + "A suppression comment naming \(descriptor.code) is itself reported (OML004), and oml-compile "
            + "re-checks what it relies on whatever lint comments say."
        return descriptor
    }

    /// The descriptor of the rule with `code` (case-insensitive), or nil.
    public static func rule(code: String) -> RuleDescriptor? {
        let wanted = code.uppercased()
        return ruleDescriptors.first { $0.code == wanted }
    }

    private let registry: ComponentRegistry
    private let connections: ConnectionsFile?
    private let snapshot: Snapshot?
    private let reportsUnrunnableComponents: Bool

    /// A linter; OML301 needs `connections`, OML400 and OML401 need `snapshot`. Components this
    /// build cannot run are reported (OML206) only when `reportsUnrunnableComponents`, as oml-compile does.
    public init(
        registry: ComponentRegistry = .builtin, connections: ConnectionsFile? = nil, snapshot: Snapshot? = nil,
        reportsUnrunnableComponents: Bool = false
    ) {
        self.registry = registry
        self.connections = connections
        self.snapshot = snapshot
        self.reportsUnrunnableComponents = reportsUnrunnableComponents
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
            let finding = YAMLSyntaxError.diagnostic(file: file, error: error, source: source)
            return LintResult(diagnostics: [finding], source: error.isBinary ? nil : source, document: nil)
        }
        if !yaml.duplicateKeys.isEmpty {
            return finish(yaml.duplicateKeys.map { DuplicateKey.diagnostic(file: file, duplicate: $0) }, nil)
        }
        guard let root = yaml.root, root.mapping != nil else {
            return finish([DocumentNotMapping.diagnostic(file: file, root: yaml.root)], nil)
        }

        let document = OMLDocument(root: root)
        let context = LintContext(
            file: file, source: source, document: document, registry: registry, connections: connections, snapshot: snapshot,
            reportsUnrunnableComponents: reportsUnrunnableComponents)
        var findings: [Diagnostic] = []
        for rule in Self.rules { rule.check(context, into: &findings) }
        return finish(findings, document)
    }

    /// The rules whose errors no comment silences, because the manifest would be undefined without
    /// them (DESIGN.md §10): document shape, steps, ids, components, modes, `needs`, cycles, inputs,
    /// retry, required and typed config, connection references, literal secrets and params. OML001,
    /// OML002 and OML003 also end the examination, so silencing them would pass a broken file.
    package static let unsuppressible: Set<String> = [
        "OML001", "OML002", "OML003", "OML004", "OML010", "OML013", "OML014", "OML016", "OML020",
        "OML100", "OML101", "OML102", "OML104", "OML105", "OML106", "OML107", "OML109", "OML111", "OML112",
        "OML200", "OML202", "OML203", "OML204", "OML205", "OML300", "OML305", "OML307", "OML308",
    ]

    /// Unsuppressible rules that also report warnings, which stay suppressible: OML013's version
    /// other than 0.1.0 is a warning, its non-string version an error.
    static let suppressibleWarnings: Set<String> = ["OML013"]

    /// Whether a suppression comment naming `code` is itself a finding (OML004).
    static func forbidsSuppression(of code: String) -> Bool {
        unsuppressible.contains(code) && !suppressibleWarnings.contains(code)
    }

    /// Sorted by position, duplicates (from YAML aliases) removed, suppressions applied.
    private static func finalize(_ findings: [Diagnostic], source: SourceText) -> [Diagnostic] {
        let suppressions = Suppressions(source: source)
        var seen = Set<Diagnostic>()
        return findings.sorted(by: Diagnostic.byPosition).filter { finding in
            guard seen.insert(finding).inserted else { return false }
            if finding.severity == .error, unsuppressible.contains(finding.code) { return true }
            return !suppressions.silences(code: finding.code, line: finding.range.start.line)
        }
    }
}
