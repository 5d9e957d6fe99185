import OML
import OMLCompiler
import OsirisCore
import OsirisDrivers

/// What one fuzz target does with one input: nil when the input was handled as documented (accepted,
/// or rejected with a diagnostic and the documented exit status), else what went wrong.
protocol FuzzTarget {
    /// The name on the command line and in the report.
    var name: String { get }
    /// The syntax whose tokens the mutator inserts.
    var language: Mutator.Language { get }
    /// Which files under the repository are seeds.
    func isSeed(_ path: String) -> Bool
    /// The input the target runs for a mutant (deterministic, so a saved mutant replays the same way).
    func prepare(_ bytes: [UInt8]) -> [UInt8]
    /// Runs one input; returns whether it was accepted, or throws a failure.
    func run(_ bytes: [UInt8]) throws(FuzzFailure) -> Bool
}

/// A target's inputs are the mutants as they are, unless the target says otherwise.
extension FuzzTarget {
    /// The mutant itself.
    func prepare(_ bytes: [UInt8]) -> [UInt8] { bytes }
}

/// An input handled against the contract: a rejection without a message or with the wrong exit status.
struct FuzzFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Checks a rejection: a message, and the exit status the tools document for this kind of input.
func checkRejection(_ error: any OsirisError, expected: ExitStatus) throws(FuzzFailure) {
    guard !error.description.isEmpty else { throw FuzzFailure("a rejection without a message") }
    guard error.exitStatus == expected else {
        throw FuzzFailure("rejected with exit status \(error.exitStatus.rawValue), not \(expected.rawValue): \(error.description)")
    }
}

/// OML text through `oml-compile`'s path: lint (every rule, with the conformance connections and
/// snapshot), params, planning; the findings rendered as text and JSON lines; an accepted document's
/// manifest must decode again.
struct OMLTarget: FuzzTarget {
    let connections: ConnectionsFile?
    let snapshot: Snapshot?
    var name: String { "oml" }
    var language: Mutator.Language { .yaml }

    func isSeed(_ path: String) -> Bool {
        (path.hasSuffix(".oml") || path.hasSuffix(".yaml") || path.hasSuffix(".yml")) && !path.contains("connections")
    }

    func run(_ bytes: [UInt8]) throws(FuzzFailure) -> Bool {
        let result: CompileResult
        do {
            result = try Compiler().compile(
                bytes, file: "fuzz.oml", options: CompileOptions(connections: connections, snapshot: snapshot))
        } catch {
            try checkRejection(error, expected: error.exitStatus)
            return false
        }
        var text = TextRenderer(useColor: false)
        _ = text.render(result.diagnostics, source: result.source)
        var lines = JSONLinesRenderer()
        _ = lines.render(result.diagnostics, source: result.source)
        guard let manifest = result.manifest else {
            guard result.diagnostics.contains(where: { $0.severity == .error }) else {
                throw FuzzFailure("no manifest and no error diagnostic")
            }
            return false
        }
        do {
            _ = try Manifest.decode(manifest.canonicalBytes, path: "fuzz.manifest.json")
        } catch {
            throw FuzzFailure("the compiled manifest does not decode: \(error)")
        }
        return true
    }
}

/// Manifest JSON through `osiris-exec`'s decoder; half the mutants that still parse get their
/// `manifest_fp` recomputed, so the checks behind the fingerprint are reached too.
struct ManifestTarget: FuzzTarget {
    var name: String { "manifest" }
    var language: Mutator.Language { .json }
    func isSeed(_ path: String) -> Bool { path.hasSuffix(".manifest.json") }

    /// Half the mutants (those of even length) that still parse get their `manifest_fp` recomputed.
    func prepare(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count % 2 == 0, let json = try? JSONParser.parse(bytes), var members = json.objectValue else { return bytes }
        var fingerprints = members["fingerprints"]?.objectValue ?? [:]
        fingerprints.removeValue(forKey: "manifest_fp")
        members["fingerprints"] = .object(fingerprints)
        fingerprints["manifest_fp"] = .string(Fingerprint.sha256(canonicalJSONOf: .object(members)))
        members["fingerprints"] = .object(fingerprints)
        return JSONWriter.line(.object(members))
    }

    func run(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        let manifest: Manifest
        do {
            manifest = try Manifest.decode(input, path: "fuzz.manifest.json")
        } catch {
            try checkRejection(error, expected: .dataError)
            return false
        }
        do {
            _ = try Manifest.decode(manifest.canonicalBytes, path: "fuzz.manifest.json")
        } catch {
            throw FuzzFailure("an accepted manifest does not decode again: \(error)")
        }
        return true
    }
}

/// Discovery snapshots through the decoder `oml-lint --snapshot` and `osiris-chat` use.
struct SnapshotTarget: FuzzTarget {
    var name: String { "snapshot" }
    var language: Mutator.Language { .json }
    func isSeed(_ path: String) -> Bool { path.hasSuffix("snapshot.json") || (path.contains("Goldens") && path.hasSuffix(".json")) }

    func run(_ bytes: [UInt8]) throws(FuzzFailure) -> Bool {
        do {
            _ = try Snapshot.decode(bytes, path: "fuzz.snapshot.json")
            return true
        } catch {
            try checkRejection(error, expected: .dataError)
            return false
        }
    }
}

/// Connections files, then every alias resolved as a step would resolve it (`${VAR}` expansion, DSNs).
struct ConnectionsTarget: FuzzTarget {
    var name: String { "connections" }
    var language: Mutator.Language { .yaml }
    func isSeed(_ path: String) -> Bool { path.contains("connections") && (path.hasSuffix(".yaml") || path.hasSuffix(".yml")) }

    func run(_ bytes: [UInt8]) throws(FuzzFailure) -> Bool {
        let file: ConnectionsFile
        do {
            file = try ConnectionsFile.parse(bytes, path: "fuzz_connections.yaml")
        } catch {
            try checkRejection(error, expected: .configuration)
            return false
        }
        let resolver = ConnectionResolver(
            connections: file, searched: "fuzz", environment: ["PG_PASSWORD": "pw", "MYSQL_PASSWORD": "pw", "HOME": "/nonexistent"],
            masker: SecretMasker())
        for entry in file.entries {
            do {
                _ = try resolver.resolve(entry.reference, family: entry.family)
            } catch {
                guard !error.message.isEmpty else { throw FuzzFailure("an alias rejected without a message") }
            }
        }
        return true
    }
}
