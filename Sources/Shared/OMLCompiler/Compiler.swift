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
    /// The file's text, for renderers that quote source lines.
    public let source: SourceText
    /// The manifest, when the document has no lint error.
    public let manifest: Manifest?
}

/// Turns OML into a manifest (DESIGN.md §6): lint first and refuse on any error, then resolve params,
/// fill in defaults, make implicit inputs explicit, order the DAG and fingerprint everything.
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
        let linter = Linter(registry: registry, connections: options.connections, snapshot: options.snapshot)
        let lint = linter.lint(bytes, file: file)
        guard !lint.hasErrors, let document = lint.document else {
            return CompileResult(diagnostics: lint.diagnostics, source: lint.source, manifest: nil)
        }
        let params = try ParamResolution.resolve(
            document, profile: options.profile, environment: options.environment, commandLine: options.params)
        let manifest = plan(document, params: params, profile: options.profile, connections: options.connections)
        return CompileResult(diagnostics: lint.diagnostics, source: lint.source, manifest: manifest)
    }

    /// The manifest of a lint-clean document.
    func plan(_ document: OMLDocument, params: [String: JSONValue], profile: String?, connections: ConnectionsFile?) -> Manifest {
        let specs = document.steps.map { step in step.component.flatMap(registry.spec(named:))! }
        let graph = StepGraph(document: document) { specs[$0].role }
        var steps: [ManifestStep] = []
        for step in document.steps {
            let spec = specs[step.index]
            var config = ParamResolution.substitute(step.config?.jsonValue ?? [:], params: params).objectValue ?? [:]
            var connection = config.removeValue(forKey: "connection")?.stringValue
            if connection == nil, let connections, needsConnection(spec, config: config),
               case .found(let entry) = connections.defaultConnection(forFamily: spec.family!) {
                connection = entry.reference.description
            }
            for (legacy, canonical) in spec.aliases {
                if let value = config.removeValue(forKey: legacy) { config[canonical] = value }
            }
            fillDefaults(&config, spec: spec)
            if case .string(let key)? = config["primary_key"] { config["primary_key"] = [.string(key)] }
            steps.append(ManifestStep(
                id: step.id!, component: spec.name, mode: Self.manifestMode(spec.role),
                needs: graph.inputs[step.index].map { document.steps[$0].id! },
                connection: spec.family == nil ? nil : connection, config: .object(config),
                retry: retryPolicy(step, role: spec.role, params: params)))
        }
        let order = graph.levels.map { level in level.map { document.steps[$0].id! } }
        var used: [String: JSONValue] = [:]
        for spec in specs { used[spec.name] = spec.json }
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

    /// Fills in spec defaults, except for connection fields and secrets, which come from the
    /// connection at run time: a default `host` in the config would override the connection's.
    private func fillDefaults(_ config: inout [String: JSONValue], spec: ComponentSpec) {
        let connectionFields = Set(spec.connectionFields.map(\.name))
        let legacy = Set(spec.aliases.keys)
        for (name, property) in spec.configSchema.properties {
            guard config[name] == nil, let value = property.defaultValue, value != .null,
                  !connectionFields.contains(name), !spec.secretKeys.contains(name), !legacy.contains(name), name != "connection"
            else { continue }
            config[name] = value
        }
    }

    /// The step's retry policy: its own, else 3 tries for extractors and writers and 1 for processors.
    private func retryPolicy(_ step: OMLStep, role: ComponentRole, params: [String: JSONValue]) -> RetryPolicy {
        let retry = step.retryPair.map { ParamResolution.substitute($0.value.jsonValue, params: params) }
        let attempts = retry?["attempts"]?.intValue ?? (role == .processor ? 1 : 3)
        let backoff = retry?["backoff_ms"]?.intValue ?? Self.defaultBackoffMilliseconds
        return RetryPolicy(attempts: attempts, backoffMilliseconds: backoff)
    }
}
