import OML
import OMLCompiler
import OsirisCore
import Testing

/// Compiles OML text, failing the test when it does not compile.
func compile(_ text: String, _ options: CompileOptions = CompileOptions()) throws -> Manifest {
    let result = try Compiler().compile(Array(text.utf8), file: "p.oml", options: options)
    guard let manifest = result.manifest else {
        throw CompileFailure(messages: result.diagnostics.map { "\($0.code) \($0.range.start): \($0.message)" })
    }
    return manifest
}

/// A compile the test expected to succeed, with the findings that stopped it.
struct CompileFailure: Error, CustomStringConvertible {
    let messages: [String]
    var description: String { "did not compile: \(messages.joined(separator: "; "))" }
}

let paramsPipeline = """
    oml_version: "0.1.0"
    name: recent-orders
    params:
      since: {type: string, default: "2024-01-01"}
      limit: {type: int, default: 1000}
      region: {type: string, enum: [eu, us], default: eu}
      ratio: 0.5
    profiles:
      prod: {params: {limit: 100000, region: us}}
    steps:
      - id: extract
        component: postgres.extractor
        mode: read
        config:
          query: "SELECT id FROM orders WHERE created_at >= '${params.since}' LIMIT ${params.limit}"
          batch_size: "${params.limit}"
      - id: write
        component: filesystem.csv_writer
        mode: write
        needs: [extract]
        config: {path: "out/${params.region}/orders-${params.ratio}.csv"}
    """

@Suite struct ParamTests {
    @Test func defaultsProfileEnvironmentAndFlagsInThatOrder() throws {
        #expect(try compile(paramsPipeline).params["limit"] == 1000)
        #expect(try compile(paramsPipeline, CompileOptions(profile: "prod")).params["limit"] == 100000)
        let environment = ["OSIRIS_PARAM_LIMIT": "500"]
        #expect(try compile(paramsPipeline, CompileOptions(profile: "prod", environment: environment)).params["limit"] == 500)
        let flags = CompileOptions(profile: "prod", params: ["limit=700"], environment: environment)
        #expect(try compile(paramsPipeline, flags).params["limit"] == 700)
        #expect(try compile(paramsPipeline, flags).params["region"] == "us")
    }

    @Test func exactNameInTheEnvironmentWinsOverUpperCase() throws {
        let environment = ["OSIRIS_PARAM_limit": "200", "OSIRIS_PARAM_LIMIT": "300"]
        #expect(try compile(paramsPipeline, CompileOptions(environment: environment)).params["limit"] == 200)
    }

    @Test func wholeReferencesKeepTheirTypeAndInnerOnesBecomeText() throws {
        let manifest = try compile(paramsPipeline, CompileOptions(params: ["limit=250"]))
        let extract = try #require(manifest.step("extract"))
        #expect(extract.config["batch_size"] == .int(250))
        #expect(extract.config["query"] == "SELECT id FROM orders WHERE created_at >= '2024-01-01' LIMIT 250")
        #expect(manifest.step("write")?.config["path"] == "out/eu/orders-0.5.csv")
    }

    @Test(arguments: [
        (["limit=many"], "--param 'limit=many': 'many' is not an int"),
        (["region=asia"], "--param 'region=asia': param 'region' must be one of \"eu\", \"us\""),
        (["regin=eu"], "--param 'regin': no such param (declared: since, limit, region, ratio); did you mean 'region'?"),
        (["limit"], "--param 'limit' is not NAME=VALUE"),
    ])
    func badFlagsAreUsageErrors(flags: [String], message: String) {
        do {
            _ = try Compiler().compile(Array(paramsPipeline.utf8), file: "p.oml", options: CompileOptions(params: flags))
            Issue.record("accepted \(flags)")
        } catch {
            #expect(error.description == message)
            #expect(error.exitStatus == .usage)
        }
    }

    @Test func unknownProfileListsTheDeclaredOnes() {
        do {
            _ = try Compiler().compile(Array(paramsPipeline.utf8), file: "p.oml", options: CompileOptions(profile: "staging"))
            Issue.record("accepted an unknown profile")
        } catch {
            #expect(error == .unknownProfile(name: "staging", declared: ["prod"]))
            #expect(error.description == "unknown profile 'staging'; declared profiles: prod")
        }
    }

    @Test func badEnvironmentValueIsAConfigurationError() {
        do {
            _ = try Compiler().compile(
                Array(paramsPipeline.utf8), file: "p.oml", options: CompileOptions(environment: ["OSIRIS_PARAM_LIMIT": "x"]))
            Issue.record("accepted a bad environment value")
        } catch {
            #expect(error.exitStatus == .configuration)
        }
    }
}

@Suite struct ManifestShapeTests {
    @Test func implicitInputsBecomeExplicitAndLevelsRespectNeeds() throws {
        let manifest = try compile("""
            oml_version: "0.1.0"
            name: shape
            steps:
              - {id: a, component: postgres.extractor, mode: read, config: {table: orders}}
              - {id: b, component: postgres.extractor, mode: read, config: {table: customers}}
              - {id: j, component: sqlite.processor, mode: transform, needs: [b, a], config: {query: "SELECT 1"}}
              # oml-lint: disable=OML110
              - {id: w, component: filesystem.jsonl_writer, mode: write, config: {path: out.jsonl}}
            """)
        #expect(manifest.steps.map(\.id) == ["a", "b", "j", "w"])
        #expect(manifest.steps.map(\.needs) == [[], [], ["b", "a"], ["j"]])
        #expect(manifest.steps.map(\.mode.rawValue) == ["extract", "extract", "transform", "write"])
        #expect(manifest.order == [["a", "b"], ["j"], ["w"]])
        #expect(manifest.steps.map(\.retry.attempts) == [3, 3, 1, 3])
    }

    @Test func defaultsFilledButNotConnectionFieldsOrSecrets() throws {
        let manifest = try compile("""
            oml_version: "0.1.0"
            name: defaults
            steps:
              - {id: a, component: mysql.extractor, mode: read, config: {table: movies}}
              - id: w
                component: mysql.writer
                mode: write
                needs: [a]
                retry: {attempts: 5, backoff_ms: 50}
                config: {table: t, mode: upsert, upsert_keys: [id]}
            """)
        let extract = try #require(manifest.step("a")?.config.objectValue)
        #expect(extract["batch_size"] == 10000)
        #expect(extract["host"] == nil)
        #expect(extract["port"] == nil)
        #expect(extract["password"] == nil)
        let writer = try #require(manifest.step("w"))
        #expect(writer.config["write_mode"] == "upsert")
        #expect(writer.config["primary_key"] == ["id"])
        #expect(writer.config["mode"] == nil)
        #expect(writer.config["upsert_keys"] == nil)
        #expect(writer.retry == RetryPolicy(attempts: 5, backoffMilliseconds: 50))
    }

    @Test func aSinglePrimaryKeyBecomesAList() throws {
        let manifest = try compile("""
            oml_version: "0.1.0"
            name: keys
            steps:
              - {id: a, component: postgres.extractor, mode: read, config: {table: orders}}
              - {id: w, component: postgres.writer, mode: write, needs: [a], config: {table: t, write_mode: upsert, primary_key: id}}
            """)
        #expect(manifest.step("w")?.config["primary_key"] == ["id"])
    }

    @Test func connectionsStayReferencesAndDefaultsAreNamed() throws {
        let connections = try ConnectionsFile.parse(Array("""
            version: 1
            connections:
              pg: {shop: {default: true, host: h, password: "${SECRET_PW}"}}
            """.utf8), path: "c.yaml")
        let text = """
            oml_version: "0.1.0"
            name: refs
            steps:
              - {id: a, component: postgres.extractor, mode: read, config: {table: orders}}
              - {id: b, component: postgres.extractor, mode: read, config: {connection: "@pg.shop", table: customers}}
              - {id: w, component: filesystem.csv_writer, mode: write, needs: [a], config: {path: o.csv}}
            """
        let named = try compile(text, CompileOptions(connections: connections))
        #expect(named.steps.map(\.connection) == ["@pg.shop", "@pg.shop", nil])
        #expect(named.step("b")?.config["connection"] == nil)
        let bytes = String(decoding: named.canonicalBytes, as: UTF8.self)
        #expect(!bytes.contains("SECRET_PW"))
        #expect(!bytes.contains("\"h\""))
        let unnamed = try compile(text)
        #expect(unnamed.steps.map(\.connection) == [nil, "@pg.shop", nil])
    }

    @Test func lintErrorsRefuseAndWarningsDoNot() throws {
        let refused = try Compiler().compile(Array("oml_version: 1\nname: x\nsteps: []\n".utf8), file: "p.oml", options: CompileOptions())
        #expect(refused.manifest == nil)
        #expect(refused.diagnostics.map(\.code) == ["OML013", "OML020"])
        let warned = try Compiler().compile(Array("""
            oml_version: "0.1.0"
            name: Warned
            steps: [{id: a, component: postgres.extractor, mode: read, config: {table: orders}}]
            """.utf8), file: "p.oml", options: CompileOptions())
        #expect(warned.manifest != nil)
        #expect(warned.diagnostics.map(\.code) == ["OML015"])
    }

    @Test func manifestRoundTripsThroughItsDecoder() throws {
        let manifest = try compile(paramsPipeline)
        let decoded = try Manifest.decode(manifest.canonicalBytes, path: "m.json")
        #expect(decoded == manifest)
        #expect(decoded.canonicalBytes == manifest.canonicalBytes)
    }

    /// Found by the fuzzer (osiris-fuzz manifest): a manifest holding a key the decoder does not read,
    /// with its fingerprint recomputed, was accepted, yet its re-encoding (what `--sandbox` sends a
    /// worker in `prepare`) lacks the key and fails the fingerprint check there. Such a manifest is now
    /// refused where it is read, naming the key; so is a value the decoder would rewrite.
    @Test(arguments: [
        ("retries", JSONValue.object(["attempts": .int(2)]), "steps[0].retries"),
        ("connection", JSONValue.null, "steps[0].connection"),
        ("retry", JSONValue.object(["attempts": .int(3)]), "steps[0].retry.backoff_ms"),
    ])
    func decoderRefusesWhatItWouldNotWriteBack(key: String, value: JSONValue, path: String) throws {
        let manifest = try compile(paramsPipeline)
        guard case .object(var members) = manifest.json(includingManifestFingerprint: false),
            case .array(var steps) = members["steps"], case .object(var step) = steps[0]
        else { Issue.record("not an object"); return }
        step[key] = value
        steps[0] = .object(step)
        members["steps"] = .array(steps)
        var fingerprints = members["fingerprints"]?.objectValue ?? [:]
        fingerprints["manifest_fp"] = .string(Fingerprint.sha256(canonicalJSONOf: .object(members)))
        members["fingerprints"] = .object(fingerprints)
        do {
            _ = try Manifest.decode(JSONWriter.line(.object(members)), path: "m.json")
            Issue.record("accepted")
        } catch {
            #expect(error.message == """
                '\(path)' is not what this toolchain writes there (an unknown key, or a value of another type); \
                edit the pipeline's OML instead and compile it again: oml-compile FILE -o m.json
                """)
            #expect(error.exitStatus == .dataError)
        }
    }

    @Test func decoderRejectsOMLAndOtherVersions() {
        #expect(throws: ManifestError.self) { try Manifest.decode(Array(paramsPipeline.utf8), path: "p.oml") }
        do {
            _ = try Manifest.decode(Array("{\"oml_version\": \"0.1.0\", \"steps\": []}".utf8), path: "p.oml")
        } catch {
            #expect(error.message.contains("this is OML, not a manifest; compile it first: oml-compile p.oml -o p.manifest.json"))
        }
        do {
            _ = try Manifest.decode(Array("{\"manifest_version\": 2}".utf8), path: "m.json")
        } catch {
            #expect(error.message == "unsupported manifest_version 2; this toolchain reads version 1")
            #expect(error.exitStatus == .dataError)
        }
    }
}

@Suite struct FingerprintTests {
    @Test func everyFingerprintHasTheDocumentedForm() throws {
        let manifest = try compile(paramsPipeline)
        #expect(Set(manifest.fingerprints.keys) == ["oml_fp", "params_fp", "registry_fp", "compiler_fp", "manifest_fp"])
        for (_, value) in manifest.fingerprints { #expect(Fingerprint.isWellFormed(value), "\(value)") }
    }

    @Test func editingTheOMLChangesOMLAndManifestFingerprints() throws {
        let before = try compile(paramsPipeline)
        let after = try compile(paramsPipeline.replacing("out/", with: "output/"))
        #expect(before.fingerprints["oml_fp"] != after.fingerprints["oml_fp"])
        #expect(before.fingerprints["manifest_fp"] != after.fingerprints["manifest_fp"])
        #expect(before.fingerprints["params_fp"] == after.fingerprints["params_fp"])
        #expect(before.fingerprints["registry_fp"] == after.fingerprints["registry_fp"])
    }

    @Test func commentsAndFormattingDoNotChangeTheOMLFingerprint() throws {
        let before = try compile(paramsPipeline)
        let after = try compile("# a comment\n" + paramsPipeline.replacing("mode: read", with: "mode:   read   # reads"))
        #expect(before.canonicalBytes == after.canonicalBytes)
    }

    @Test func aParamChangesParamsAndManifestButNotOML() throws {
        let before = try compile(paramsPipeline)
        let after = try compile(paramsPipeline, CompileOptions(params: ["limit=500"]))
        #expect(before.fingerprints["oml_fp"] == after.fingerprints["oml_fp"])
        #expect(before.fingerprints["params_fp"] != after.fingerprints["params_fp"])
        #expect(before.fingerprints["manifest_fp"] != after.fingerprints["manifest_fp"])
    }

    @Test func aProfileSwitchChangesParamsAndManifestButNotOML() throws {
        let before = try compile(paramsPipeline)
        let after = try compile(paramsPipeline, CompileOptions(profile: "prod"))
        #expect(before.fingerprints["oml_fp"] == after.fingerprints["oml_fp"])
        #expect(before.fingerprints["params_fp"] != after.fingerprints["params_fp"])
        #expect(before.fingerprints["manifest_fp"] != after.fingerprints["manifest_fp"])
        #expect(after.profile == "prod")
    }

    @Test func registryFingerprintHashesOnlyTheComponentsUsed() throws {
        let csv = try compile(paramsPipeline)
        let jsonl = try compile(paramsPipeline.replacing("filesystem.csv_writer", with: "filesystem.jsonl_writer"))
        #expect(csv.fingerprints["registry_fp"] != jsonl.fingerprints["registry_fp"])
    }

    @Test func manifestFingerprintIsTheHashOfTheRest() throws {
        let manifest = try compile(paramsPipeline)
        #expect(manifest.fingerprints["manifest_fp"] == Fingerprint.sha256(canonicalJSONOf: manifest.json(includingManifestFingerprint: false)))
    }
}

@Suite struct DepfileTests {
    @Test func ruleEscapesNamesForMake() {
        #expect(Depfile.rule(target: "build/a b.json", inputs: ["p$1.oml", "c#.yaml"]) == "build/a\\ b.json: p$$1.oml c\\#.yaml\n")
    }
}
