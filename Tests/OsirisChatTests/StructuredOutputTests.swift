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
        #expect(names == ComponentRegistry.builtin.specs.filter(\.runnable).map(\.name))
        let sqlite = try #require(alternatives.first { $0["properties"]?["component"]?["enum"] == ["sqlite.extractor"] })
        #expect(sqlite["properties"]?["config"]?["properties"]?["table"]?["enum"] == ["customers", "orders", "products"])
        #expect(sqlite["properties"]?["mode"]?["enum"] == ["read"])
        let postgres = try #require(alternatives.first { $0["properties"]?["component"]?["enum"] == ["postgres.extractor"] })
        #expect(postgres["properties"]?["config"]?["properties"]?["table"]?["enum"] == nil)
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

    @Test func autoStopsAskingOnceTheServerRejectsTheSchema() throws {
        let server = try ModelServer([.status(400), .openAI(ChatFixtures.fenced(ChatFixtures.inventedTableDraft)), .openAI(ChatFixtures.goodDraft)])
        defer { server.stop() }
        let conversation = Conversation(
            client: client(server), snapshot: try ChatFixtures.snapshot(), connections: nil, session: nil, ask: nil, structured: .auto)
        guard case .oml = try conversation.run(request: "copy orders to csv") else { Issue.record("refused"); return }
        #expect(server.requests.map { $0.json["response_format"] != nil } == [true, false, false])
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
