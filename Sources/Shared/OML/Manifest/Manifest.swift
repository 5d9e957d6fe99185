import OsirisCore

/// A manifest that cannot be used: it does not decode or has an unknown version (exit status 65).
public typealias ManifestError = FileFormatError

/// How often a step is tried and how long the first wait between tries is.
public struct RetryPolicy: Sendable, Equatable {
    /// Tries in all, at least 1 (1 means no retry).
    public var attempts: Int
    /// The wait before the second try; each later wait doubles, with jitter.
    public var backoffMilliseconds: Int

    /// Creates a retry policy.
    public init(attempts: Int, backoffMilliseconds: Int) {
        self.attempts = attempts
        self.backoffMilliseconds = backoffMilliseconds
    }
}

/// One step of a manifest: everything the runner needs, with defaults filled in and params substituted.
public struct ManifestStep: Sendable, Equatable {
    /// The step id.
    public var id: String
    /// The component name, such as `postgres.extractor`.
    public var component: String
    /// `extract`, `write` or `transform`.
    public var mode: String
    /// The steps whose output this step reads, in order (implicit inputs made explicit).
    public var needs: [String]
    /// The connection reference (`@pg.shop`), when the component uses a connection and one is named
    /// or is the family default in the connections file; resolved by the runner, never here.
    public var connection: String?
    /// The component config: defaults filled in, params substituted, legacy keys renamed, no secrets.
    public var config: JSONValue
    /// The retry policy.
    public var retry: RetryPolicy

    /// Creates a manifest step.
    public init(id: String, component: String, mode: String, needs: [String], connection: String?, config: JSONValue, retry: RetryPolicy) {
        self.id = id
        self.component = component
        self.mode = mode
        self.needs = needs
        self.connection = connection
        self.config = config
        self.retry = retry
    }
}

/// The compiled, deterministic plan of a pipeline (DESIGN.md §6, `osiris-manifest(5)`): the whole
/// contract between `oml-compile` and `osiris-exec`. Written as canonical JSON, for example:
///
/// ```json
/// {"fingerprints":{"compiler_fp":"sha256:…","manifest_fp":"sha256:…","oml_fp":"sha256:…","params_fp":"sha256:…","registry_fp":"sha256:…"},"manifest_version":1,"order":[["extract-orders"],["write-orders"]],"params":{},"pipeline":{"description":null,"metadata":{},"name":"orders-to-csv","oml_version":"0.1.0","profile":"default"},"steps":[…],"toolchain":{"compiler":"oml-compile 0.1.0"}}
/// ```
public struct Manifest: Sendable, Equatable {
    /// The manifest format version this toolchain writes and reads.
    public static let version = 1

    /// The pipeline's name.
    public var name: String
    /// The OML version of the source.
    public var omlVersion: String
    /// The active profile, `default` when none was chosen.
    public var profile: String
    /// The pipeline's description, when it has one.
    public var description: String?
    /// The source's `metadata`, verbatim.
    public var metadata: JSONValue
    /// The effective param values.
    public var params: [String: JSONValue]
    /// The steps in OML order.
    public var steps: [ManifestStep]
    /// The DAG's levels: the steps of one level may run in parallel.
    public var order: [[String]]
    /// `oml_fp`, `params_fp`, `registry_fp`, `compiler_fp` and `manifest_fp`.
    public var fingerprints: [String: String]
    /// The tools that made the manifest, such as `{"compiler": "oml-compile 0.1.0"}`.
    public var toolchain: [String: String]

    /// Creates a manifest.
    public init(
        name: String, omlVersion: String, profile: String, description: String?, metadata: JSONValue,
        params: [String: JSONValue], steps: [ManifestStep], order: [[String]], fingerprints: [String: String],
        toolchain: [String: String]
    ) {
        self.name = name
        self.omlVersion = omlVersion
        self.profile = profile
        self.description = description
        self.metadata = metadata
        self.params = params
        self.steps = steps
        self.order = order
        self.fingerprints = fingerprints
        self.toolchain = toolchain
    }

    /// The step with `id`.
    public func step(_ id: String) -> ManifestStep? { steps.first { $0.id == id } }

    /// The manifest as JSON; `includingManifestFingerprint: false` leaves out `manifest_fp`, which is
    /// the hash of exactly that value.
    public func json(includingManifestFingerprint: Bool = true) -> JSONValue {
        var fingerprints = self.fingerprints
        if !includingManifestFingerprint { fingerprints.removeValue(forKey: "manifest_fp") }
        return [
            "manifest_version": .int(Self.version),
            "pipeline": [
                "name": .string(name),
                "oml_version": .string(omlVersion),
                "profile": .string(profile),
                "description": description.map(JSONValue.string) ?? .null,
                "metadata": metadata,
            ],
            "params": .object(params),
            "steps": .array(steps.map { step in
                var object: [String: JSONValue] = [
                    "id": .string(step.id),
                    "component": .string(step.component),
                    "mode": .string(step.mode),
                    "needs": .array(step.needs.map(JSONValue.string)),
                    "config": step.config,
                    "retry": ["attempts": .int(step.retry.attempts), "backoff_ms": .int(step.retry.backoffMilliseconds)],
                ]
                if let connection = step.connection { object["connection"] = .string(connection) }
                return .object(object)
            }),
            "order": .array(order.map { .array($0.map(JSONValue.string)) }),
            "fingerprints": .object(fingerprints.mapValues(JSONValue.string)),
            "toolchain": .object(toolchain.mapValues(JSONValue.string)),
        ]
    }

    /// The canonical bytes of the manifest file, with a final newline.
    public var canonicalBytes: [UInt8] { JSONWriter.line(json()) }

    /// Reads a manifest from its JSON bytes.
    public static func decode(_ bytes: [UInt8], path: String) throws(ManifestError) -> Manifest {
        let json: JSONValue
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw ManifestError(path: path, message: "the manifest is empty", exitStatus: .dataError)
        }
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            let text = String(decoding: bytes.prefix(64 * 1024), as: UTF8.self)
            if text.containsBytes("oml_version") || text.containsBytes("steps:") {
                throw ManifestError(
                    path: path, message: "this is OML, not a manifest; compile it first: oml-compile \(path) -o \(Self.suggestedOutput(for: path))",
                    exitStatus: .dataError)
            }
            throw ManifestError(
                path: path, message: "not a manifest: \(error.message)", range: SourceRange(start: error.position), exitStatus: .dataError)
        }
        return try decode(json, path: path)
    }

    /// Where the compile command shown in errors writes: `p.oml` -> `p.manifest.json`.
    static func suggestedOutput(for path: String) -> String {
        if path == "-" { return "pipeline.manifest.json" }
        for ending in [".oml.yaml", ".oml.yml", ".oml", ".yaml", ".yml"] where path.hasSuffix(ending) {
            return String(path.dropLast(ending.count)) + ".manifest.json"
        }
        return path + ".manifest.json"
    }

    /// Reads a manifest from JSON.
    public static func decode(_ json: JSONValue, path: String) throws(ManifestError) -> Manifest {
        func fail(_ message: String) -> ManifestError { ManifestError(path: path, message: message, exitStatus: .dataError) }
        guard json.objectValue != nil else { throw fail("not a manifest: expected a JSON object") }
        guard let version = json["manifest_version"] else {
            if json["oml_version"] != nil || json["steps"]?.arrayValue?.first?["mode"]?.stringValue == "read" {
                throw fail("this is OML, not a manifest; compile it first: oml-compile \(path) -o \(Self.suggestedOutput(for: path))")
            }
            throw fail("not a manifest: missing 'manifest_version'")
        }
        guard version.intValue == Self.version else {
            throw fail("unsupported manifest_version \(JSONWriter.canonicalString(version)); this toolchain reads version \(Self.version)")
        }
        guard let pipeline = json["pipeline"], let name = pipeline["name"]?.stringValue else { throw fail("missing 'pipeline.name'") }
        guard let stepsJSON = json["steps"]?.arrayValue else { throw fail("missing 'steps'") }
        var steps: [ManifestStep] = []
        for (index, step) in stepsJSON.enumerated() {
            guard let id = step["id"]?.stringValue, let component = step["component"]?.stringValue,
                  let mode = step["mode"]?.stringValue
            else { throw fail("steps[\(index)] needs 'id', 'component' and 'mode'") }
            guard let needs = step["needs"]?.arrayValue?.compactMap(\.stringValue) else {
                throw fail("steps[\(index)] ('\(id)') needs a 'needs' list")
            }
            let retry = RetryPolicy(
                attempts: step["retry"]?["attempts"]?.intValue ?? 1,
                backoffMilliseconds: step["retry"]?["backoff_ms"]?.intValue ?? 0)
            steps.append(ManifestStep(
                id: id, component: component, mode: mode, needs: needs, connection: step["connection"]?.stringValue,
                config: step["config"] ?? [:], retry: retry))
        }
        let ids = Set(steps.map(\.id))
        for step in steps {
            for need in step.needs where !ids.contains(need) {
                throw fail("step '\(step.id)' needs unknown step '\(need)'")
            }
        }
        let order = (json["order"]?.arrayValue ?? []).map { $0.arrayValue?.compactMap(\.stringValue) ?? [] }
        return Manifest(
            name: name, omlVersion: pipeline["oml_version"]?.stringValue ?? "", profile: pipeline["profile"]?.stringValue ?? "default",
            description: pipeline["description"]?.stringValue, metadata: pipeline["metadata"] ?? [:],
            params: json["params"]?.objectValue ?? [:], steps: steps, order: order,
            fingerprints: (json["fingerprints"]?.objectValue ?? [:]).compactMapValues(\.stringValue),
            toolchain: (json["toolchain"]?.objectValue ?? [:]).compactMapValues(\.stringValue))
    }
}
