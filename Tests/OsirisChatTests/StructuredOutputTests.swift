import Foundation
import OML
import OMLLint
import OsirisCore
import OsirisHTTP
import Testing

@testable import OsirisChat

/// The schema of `--structured`, JSON replies written as YAML, and the fallback when a server rejects it.
@Suite struct StructuredOutputTests {
    let pipelineJSON = """
        {"name": "orders-to-csv", "oml_version": "0.1.0", "steps": [
          {"component": "sqlite.extractor", "config": {"connection": "@sqlite.demo", "table": "orders"}, "id": "extract-orders", "mode": "read"},
          {"component": "filesystem.csv_writer", "config": {"path": "out/orders.csv"}, "id": "write-orders", "mode": "write", "needs": ["extract-orders"]}]}
        """

    @Test func theSchemaListsComponentsAndTheSnapshotsTables() throws {
        let schema = PipelineSchema.make(snapshot: try ChatFixtures.snapshot())
        let alternatives = try #require(schema["properties"]?["steps"]?["items"]?["anyOf"]?.arrayValue)
        let names = alternatives.compactMap { $0["properties"]?["component"]?["enum"]?.arrayValue?.first?.stringValue }
        // A SQLite snapshot and no connections file: no component of another database family.
        let otherFamilies: Set<String> = ["postgres", "supabase", "mysql"]
        let expected = ComponentRegistry.builtin.specs.filter { spec in spec.runnable && !otherFamilies.contains(spec.family ?? "") }.map(\.name)
        // With a snapshot the extractors are its family's: a CSV extractor would read an invented file.
        #expect(names == expected.filter { $0 != "filesystem.csv_extractor" })
        for name in ["filesystem.csv_writer", "sqlite.processor", "sqlite.writer"] { #expect(names.contains(name)) }
        let sqlite = try #require(alternatives.first { $0["properties"]?["component"]?["enum"] == ["sqlite.extractor"] })
        let config = sqlite["properties"]?["config"]?["properties"]
        #expect(config?["table"]?["enum"] == ["customers", "orders", "products"])
        #expect(config?["connection"]?["enum"] == ["@sqlite.demo"])
        #expect(config?["connection"]?["pattern"] == nil)
        let columns: [String] = try #require(config?["columns"]?["items"]?["enum"]?.arrayValue).compactMap(\.stringValue)
        for name in ["customer_id", "id"] { #expect(columns.contains(name)) }
        #expect(sqlite["properties"]?["mode"]?["enum"] == ["read"])
    }

    /// With a connections file, a database component appears when one of its connections serves it,
    /// and `connection` lists exactly those references (Supabase is PostgreSQL).
    @Test func databaseComponentsAreThoseAKnownConnectionServes() throws {
        let schema = PipelineSchema.make(snapshot: try ChatFixtures.snapshot(), connections: try ChatFixtures.connections())
        let alternatives = try #require(schema["properties"]?["steps"]?["items"]?["anyOf"]?.arrayValue)
        func connection(of component: String) -> JSONValue? {
            alternatives.first { $0["properties"]?["component"]?["enum"] == .array([.string(component)]) }?["properties"]?["config"]?["properties"]?["connection"]
        }
        #expect(connection(of: "postgres.writer")?["enum"] == ["@pg.warehouse"])
        // With a snapshot, only its family's extractors: nothing reads @pg.warehouse.
        #expect(!alternatives.contains { $0["properties"]?["component"]?["enum"] == ["postgres.extractor"] })
        #expect(connection(of: "supabase.writer")?["enum"] == ["@pg.warehouse"])
        #expect(connection(of: "sqlite.writer")?["enum"] == ["@sqlite.demo"])
        #expect(connection(of: "mysql.writer") == nil)
        // Without a snapshot, the connections file's extractors, with no table enum.
        let unsnapped = try #require(PipelineSchema.make(snapshot: nil, connections: try ChatFixtures.connections())["properties"]?["steps"]?["items"]?["anyOf"]?.arrayValue)
        let postgres = try #require(unsnapped.first { $0["properties"]?["component"]?["enum"] == ["postgres.extractor"] })
        #expect(postgres["properties"]?["config"]?["properties"]?["connection"]?["enum"] == ["@pg.warehouse"])
        #expect(postgres["properties"]?["config"]?["properties"]?["table"]?["enum"] == nil)
        // Without a snapshot or a connections file nothing narrows the components.
        let open = try #require(PipelineSchema.make(snapshot: nil)["properties"]?["steps"]?["items"]?["anyOf"]?.arrayValue)
        #expect(open.count == ComponentRegistry.builtin.specs.filter(\.runnable).count)
    }

    /// Every free string and list has a cap, so a model looping inside one is stopped by the grammar.
    @Test func freeStringsAndListsAreCapped() throws {
        let schema = PipelineSchema.make(snapshot: try ChatFixtures.snapshot())
        // Three tables: a read and a write of each, and two more.
        #expect(schema["properties"]?["steps"]?["maxItems"] == 8)
        #expect(PipelineSchema.maxSteps(tables: 0) == 4 && PipelineSchema.maxSteps(tables: 100) == 64 && PipelineSchema.maxSteps(tables: nil) == 64)
        #expect(schema["properties"]?["name"]?["pattern"] == "^[a-z0-9][a-z0-9-]{0,63}$")
        let alternatives = try #require(schema["properties"]?["steps"]?["items"]?["anyOf"]?.arrayValue)
        let sqlite = try #require(alternatives.first { $0["properties"]?["component"]?["enum"] == ["sqlite.extractor"] })
        // Ids carry the step's role; an extractor takes no input, a writer exactly one, a processor one or more,
        // and only steps that produce data.
        #expect(sqlite["properties"]?["id"]?["pattern"] == "^extract-[a-z0-9][a-z0-9_-]{0,28}$")
        #expect(sqlite["properties"]?["needs"] == nil)
        let writer = try #require(alternatives.first { $0["properties"]?["component"]?["enum"] == ["filesystem.csv_writer"] })
        #expect(writer["properties"]?["id"]?["pattern"] == "^write-[a-z0-9][a-z0-9_-]{0,28}$")
        #expect(writer["required"] == ["id", "component", "mode", "needs", "config"])
        #expect(writer["properties"]?["needs"]?["minItems"] == 1 && writer["properties"]?["needs"]?["maxItems"] == 1)
        #expect(writer["properties"]?["needs"]?["items"]?["pattern"] == "^(extract|transform)-[a-z0-9][a-z0-9_-]{0,28}$")
        let processor = try #require(alternatives.first { $0["properties"]?["component"]?["enum"] == ["sqlite.processor"] })
        #expect(processor["properties"]?["id"]?["pattern"] == "^transform-[a-z0-9][a-z0-9_-]{0,28}$")
        #expect(processor["properties"]?["needs"]?["maxItems"] == .int(PipelineSchema.maxNeeds))
        let config = sqlite["properties"]?["config"]?["properties"]
        #expect(config?["query"]?["maxLength"] == .int(PipelineSchema.maxQueryLength))
        #expect(config?["where"]?["maxLength"] == .int(PipelineSchema.maxStringLength))
        #expect(config?["table"]?["maxLength"] == nil)
        let list: JSONValue = ["type": "array", "items": ["type": "string"]]
        let cappedList: JSONValue = ["type": "array", "items": ["type": "string", "maxLength": .int(PipelineSchema.maxStringLength)]]
        #expect(PipelineSchema.capped(list) == cappedList)
    }

    /// llama-cpp-python's grammar converter refuses unanchored patterns and then falls back, silently,
    /// to any JSON: every pattern of the schema is anchored, with the same meaning.
    @Test func everyPatternOfTheSchemaIsAnchored() throws {
        func patterns(_ value: JSONValue) -> [String] {
            switch value {
            case .object(let object): object.flatMap { key, value in key == "pattern" ? [value.stringValue ?? ""] : patterns(value) }
            case .array(let items): items.flatMap(patterns)
            default: []
            }
        }
        // Supabase's `url` pattern is in the schema without a snapshot (nothing narrows the components).
        let all = patterns(PipelineSchema.make(snapshot: try ChatFixtures.snapshot())) + patterns(PipelineSchema.make(snapshot: nil))
        #expect(all.contains("^https?://.*$"))
        #expect(all.allSatisfy { $0.hasPrefix("^") && $0.hasSuffix("$") })
        #expect(PipelineSchema.anchoringPatterns(["pattern": "ab"]) == ["pattern": "^.*ab.*$"])
        #expect(PipelineSchema.anchoringPatterns(["pattern": "^a$"]) == ["pattern": "^a$"])
        #expect(PipelineSchema.anchoringPatterns(["pattern": "^a\\$"]) == ["pattern": "^a\\$.*$"])
        // llama.cpp cannot parse the grammar literal an escaped dot becomes (its server dies on it).
        #expect(all.contains("^@[A-Za-z0-9_-]+[.][A-Za-z0-9_-]+$"))
        #expect(!all.contains { $0.contains("\\.") })
        #expect(PipelineSchema.anchoringPatterns(["pattern": "^[\\.a]\\.b\\d$"]) == ["pattern": "^[\\.a][.]b\\d$"])
    }

    @Test func aJSONReplyIsWrittenAsYAMLThatLintsClean() throws {
        guard case .draft(let text) = ReplyExtractor.extract(pipelineJSON) else { Issue.record("no draft"); return }
        #expect(text == """
            oml_version: "0.1.0"
            name: "orders-to-csv"
            steps:
              - id: "extract-orders"
                component: "sqlite.extractor"
                mode: "read"
                config:
                  connection: "@sqlite.demo"
                  table: "orders"
              - id: "write-orders"
                component: "filesystem.csv_writer"
                mode: "write"
                needs: ["extract-orders"]
                config:
                  path: "out/orders.csv"

            """)
        let lint = Linter(snapshot: try ChatFixtures.snapshot()).lint(Array(text.utf8), file: "p.oml")
        #expect(lint.diagnostics.map(\.code) == [])
    }

    func client(_ server: ModelServer) -> OpenAIChatClient {
        OpenAIChatClient(
            model: "scripted", baseURL: server.baseURL, apiKey: nil, maxTokens: 500,
            poster: JSONPoster(
                transport: CurlTransport(timeouts: HTTPTimeouts(connectMilliseconds: 2000, totalMilliseconds: 10_000)),
                retry: RetryPolicy(attempts: 1)))
    }

    @Test func autoSendsTheSchemaAndTheJSONReplyBecomesOML() throws {
        let server = try ModelServer([.openAI(pipelineJSON)])
        defer { server.stop() }
        let conversation = Conversation(
            client: client(server), snapshot: try ChatFixtures.snapshot(), connections: nil, session: nil, ask: nil, structured: .auto)
        guard case .oml(let text) = try conversation.run(request: "copy orders to csv") else { Issue.record("refused"); return }
        #expect(text.contains("\nsteps:\n  - id: \"extract-orders\"\n"))
        let format = try #require(server.requests.first?.json["response_format"] as? [String: Any])
        #expect(format["type"] as? String == "json_schema")
        #expect((format["json_schema"] as? [String: Any])?["name"] as? String == "oml_pipeline")
    }

    @Test func autoStopsAskingOnceTheServerRejectsBothSchemaForms() throws {
        let server = try ModelServer([
            .status(400), .status(400), .openAI(ChatFixtures.fenced(ChatFixtures.inventedTableDraft)), .openAI(ChatFixtures.goodDraft),
        ])
        defer { server.stop() }
        let conversation = Conversation(
            client: client(server), snapshot: try ChatFixtures.snapshot(), connections: nil, session: nil, ask: nil, structured: .auto)
        guard case .oml = try conversation.run(request: "copy orders to csv") else { Issue.record("refused"); return }
        #expect(server.requests.map { ($0.json["response_format"] as? [String: Any])?["type"] as? String }
            == ["json_schema", "json_object", nil, nil])
    }

    /// What llama-cpp-python's server (0.3.x) answers to OpenAI's `json_schema` form, byte for byte:
    /// its request type only knows `text` and `json_object` (with a `schema` member), and its error
    /// handler turns the validation error into HTTP 500 (recorded from llama-cpp-python 0.3.36).
    static let llamaCppPythonRejection = ModelServer.Reply(
        status: 500, headers: ["content-type": "application/json"],
        body: #"{"error":{"message":"1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  File \"/tmp/osiris-llm/lib/python3.11/site-packages/llama_cpp/server/app.py\", line 376, in create_chat_completion\n    POST /v1/chat/completions","type":"internal_server_error","param":null,"code":null}}"#)

    @Test(arguments: [StructuredMode.auto, .on])
    func llamaCppPythonTakesTheSchemaAsJSONObjectAndKeepsThatForm(mode: StructuredMode) throws {
        let server = try ModelServer([
            Self.llamaCppPythonRejection, .openAI(pipelineJSON.replacingOccurrences(of: "\"orders\"", with: "\"order_lines\"")),
            .openAI(pipelineJSON),
        ])
        defer { server.stop() }
        let conversation = Conversation(
            client: client(server), snapshot: try ChatFixtures.snapshot(), connections: nil, session: nil, ask: nil, structured: mode)
        guard case .oml(let text) = try conversation.run(request: "copy orders to csv") else { Issue.record("refused"); return }
        #expect(text.contains("table: \"orders\""))
        let formats = server.requests.map { $0.json["response_format"] as? [String: Any] }
        #expect(formats.map { $0?["type"] as? String } == ["json_schema", "json_object", "json_object"])
        let schema = try #require(formats[1]?["schema"] as? [String: Any])
        #expect(schema["required"] as? [String] == ["oml_version", "name", "steps"])
    }

    @Test func onIsRejectedForAnthropicAndOffSendsNoSchema() throws {
        let server = try ModelServer([.openAI(ChatFixtures.goodDraft)])
        defer { server.stop() }
        let anthropic = AnthropicClient(model: "m", baseURL: server.baseURL, apiKey: "k", maxTokens: 10, poster: client(server).poster)
        let refused = Conversation(client: anthropic, snapshot: nil, connections: nil, session: nil, ask: nil, structured: .on)
        #expect(throws: ChatError.self) { try refused.run(request: "copy orders") }
        let off = Conversation(
            client: client(server), snapshot: try ChatFixtures.snapshot(), connections: nil, session: nil, ask: nil, structured: .off)
        _ = try off.run(request: "copy orders to csv")
        #expect(server.requests.count == 1)
        #expect(server.requests.first?.json["response_format"] == nil)
    }
}
