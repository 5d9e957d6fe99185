import OML
import OMLLint
import OsirisCore
import OsirisYAML

/// What a compile takes besides the OML text.
public struct CompileOptions: Sendable {
    /// The active profile; nil for the default.
    public var profile: String?
    /// `--param NAME=VALUE` flags, in order.
    public var params: [String]
    /// The environment, for `OSIRIS_PARAM_<NAME>`.
    public var environment: [String: String]
    /// The connections file, when one was found: aliases are checked and family defaults named.
    public var connections: ConnectionsFile?
    /// A discovery snapshot to check tables and columns against.
    public var snapshot: Snapshot?

    /// Creates compile options.
    public init(
        profile: String? = nil, params: [String] = [], environment: [String: String] = [:],
        connections: ConnectionsFile? = nil, snapshot: Snapshot? = nil
    ) {
        self.profile = profile
        self.params = params
        self.environment = environment
        self.connections = connections
        self.snapshot = snapshot
    }
}

/// The result of compiling one file.
public struct CompileResult: Sendable {
    /// The lint findings; any error means there is no manifest.
    public let diagnostics: [Diagnostic]
    /// The file's text, for renderers that quote source lines; nil when the file is not text.
    public let source: SourceText?
    /// The manifest, when the document has no lint error.
    public let manifest: Manifest?
}

/// Turns OML into a manifest (DESIGN.md §6): lint first and refuse on any error, then resolve params,
/// re-check what the manifest relies on, fill in defaults, make implicit inputs explicit, order the DAG and fingerprint everything.
public struct Compiler: Sendable {
    /// The compiler's version, part of `compiler_fp`.
    public static let version = "0.1.0"
    /// How the compiler names itself in manifests.
    public static let toolchainName = "oml-compile \(version)"
    /// The wait before a retry when the OML names none.
    public static let defaultBackoffMilliseconds = 500

    private let registry: ComponentRegistry

    /// A compiler over `registry`.
    public init(registry: ComponentRegistry = .builtin) { self.registry = registry }

    /// Compiles one OML file's bytes; `file` names it in diagnostics and nowhere else, so the manifest
    /// does not depend on where the file is.
    public func compile(_ bytes: [UInt8], file: String, options: CompileOptions) throws(ParamResolutionError) -> CompileResult {
        let linter = Linter(
            registry: registry, connections: options.connections, snapshot: options.snapshot, reportsUnrunnableComponents: true)
        let lint = linter.lint(bytes, file: file)
        guard !lint.hasErrors, let document = lint.document else {
            return CompileResult(diagnostics: lint.diagnostics, source: lint.source, manifest: nil)
        }
        let params = try ParamResolution.resolve(
            document, profile: options.profile, environment: options.environment, commandLine: options.params)
        do {
            let manifest = try plan(document, file: file, params: params, profile: options.profile, connections: options.connections)
            return CompileResult(diagnostics: lint.diagnostics, source: lint.source, manifest: manifest)
        } catch {
            return CompileResult(diagnostics: lint.diagnostics + error.diagnostics, source: lint.source, manifest: nil)
        }
    }

    /// The manifest of a document, after checking on the document itself everything the manifest
    /// relies on: lint findings can be silenced by comments, and a rule can have a bug.
    func plan(
        _ document: OMLDocument, file: String, params: [String: JSONValue], profile: String?, connections: ConnectionsFile?
    ) throws(PlanRejection) -> Manifest {
        var check = PlanCheck(file: file, registry: registry)
        let checked = try check.steps(of: document)
        let graph = StepGraph(document: document) { checked[$0].spec.role }
        try check.check(graph, steps: checked)
        var steps: [ManifestStep] = []
        for item in checked {
            let (step, spec) = (item.step, item.spec)
            var config = ParamResolution.substitute(step.config?.jsonValue ?? [:], params: params).objectValue ?? [:]
            let retry = step.retryPair.map { ParamResolution.substitute($0.value.jsonValue, params: params) }
            var connection = config.removeValue(forKey: "connection")?.stringValue
            if connection == nil, let connections, let family = spec.family, needsConnection(spec, config: config),
               case .found(let entry) = connections.defaultConnection(forFamily: family) {
                connection = entry.reference.description
            }
            for (legacy, canonical) in spec.aliases {
                if let value = config.removeValue(forKey: legacy) { config[canonical] = value }
            }
            config = spec.fillingDefaults(config)
            if case .string(let key)? = config["primary_key"] { config["primary_key"] = [.string(key)] }
            check.check(config: config, retry: retry, of: item, params: params)
            steps.append(ManifestStep(
                id: item.id, component: spec.name, mode: Self.manifestMode(spec.role),
                needs: graph.inputs[step.index].map { checked[$0].id },
                connection: spec.family == nil ? nil : connection, config: .object(config),
                retry: retryPolicy(retry, role: spec.role)))
        }
        try check.finishConfig()
        let order = graph.levels.map { level in level.map { checked[$0].id } }
        var used: [String: JSONValue] = [:]
        for item in checked { used[item.spec.name] = item.spec.json }
        let description = document.entry("description")?.value.string
        var manifest = Manifest(
            name: document.name ?? "", omlVersion: document.entry("oml_version")?.value.string ?? "",
            profile: profile ?? "default", description: description,
            metadata: document.entry("metadata")?.value.jsonValue ?? [:], params: params, steps: steps, order: order,
            fingerprints: [
                "oml_fp": Fingerprint.sha256(canonicalJSONOf: document.root.jsonValue),
                "params_fp": Fingerprint.sha256(canonicalJSONOf: .object(params)),
                "registry_fp": Fingerprint.sha256(canonicalJSONOf: .object(used)),
                "compiler_fp": Fingerprint.sha256(Array(Self.toolchainName.utf8)),
            ],
            toolchain: ["compiler": Self.toolchainName])
        manifest.fingerprints["manifest_fp"] = Fingerprint.sha256(canonicalJSONOf: manifest.json(includingManifestFingerprint: false))
        return manifest
    }

    /// The manifest's name for a role's mode.
    static func manifestMode(_ role: ComponentRole) -> ManifestStep.Mode { ManifestStep.Mode(role) }

    /// Whether a step without a reference takes its family's default connection: filesystem
    /// components need none, and SQLite ones none when the config names the database `path`.
    private func needsConnection(_ spec: ComponentSpec, config: [String: JSONValue]) -> Bool {
        guard let family = spec.family, spec.configSchema.properties["connection"] != nil else { return false }
        if family == "filesystem" { return false }
        if family == "sqlite", config["path"] != nil { return false }
        return true
    }

    /// The step's retry policy: its own (params substituted), else 3 tries for extractors and writers
    /// and 1 for processors.
    private func retryPolicy(_ retry: JSONValue?, role: ComponentRole) -> RetryPolicy {
        let attempts = retry?["attempts"]?.intValue ?? (role == .processor ? 1 : 3)
        let backoff = retry?["backoff_ms"]?.intValue ?? Self.defaultBackoffMilliseconds
        return RetryPolicy(attempts: attempts, backoffMilliseconds: backoff)
    }
}
