import Foundation
import OML
import OsirisCore
@testable import OsirisDrivers
import Testing

@Suite final class FilesystemDiscovererTests {
    let folder = temporaryFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }

    func write(_ name: String, _ text: String) throws {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func request(depth: DiscoveryDepth = .columns, tables: [String] = []) -> DiscoveryRequest {
        DiscoveryRequest(
            connection: ResolvedConnection(reference: "@filesystem.drop", family: "filesystem", fields: ["base_dir": .string(folder.path)]),
            depth: depth, tables: tables)
    }

    @Test func csvAndJSONLinesFilesAreTablesWithInferredTypes() throws {
        try write("people.csv", "id,name,amount,day\n1,Ann,12.50,2024-01-01\n2,,3.25,2024-01-02\n")
        try write("sub/events.jsonl", "{\"id\":1,\"tags\":[\"a\"],\"ok\":true,\"score\":1}\n{\"id\":2,\"ok\":false,\"score\":2.5,\"note\":null}\n")
        try write("notes.txt", "not a table")
        try write(".hidden.csv", "a\n1\n")
        let discoverer = try #require(DriverRegistry().discoverer(forFamily: "file"))
        let result = try discoverer.discover(request())
        #expect(result.database == folder.lastPathComponent)
        #expect(result.tables.map { "\($0.schema)/\($0.name):\($0.kind)" } == ["./people.csv:csv", "sub/events.jsonl:jsonl"])
        #expect(result.tables[0].columns == [
            SnapshotColumn(name: "id", type: "int64", logicalType: "int64", nullable: true),
            SnapshotColumn(name: "name", type: "text", logicalType: "text", nullable: true),
            SnapshotColumn(name: "amount", type: "decimal", logicalType: "decimal", nullable: true),
            SnapshotColumn(name: "day", type: "date", logicalType: "date", nullable: true),
        ])
        #expect(result.tables[1].columns == [
            SnapshotColumn(name: "id", type: "int64", logicalType: "int64", nullable: false),
            SnapshotColumn(name: "ok", type: "bool", logicalType: "bool", nullable: false),
            SnapshotColumn(name: "score", type: "float64", logicalType: "float64", nullable: false),
            SnapshotColumn(name: "tags", type: "json", logicalType: "json", nullable: true),
            SnapshotColumn(name: "note", type: "text", logicalType: "text", nullable: true),
        ])
    }

    @Test func tablesDepthPatternsAndBadLines() throws {
        try write("a.csv", "x\n1\n")
        try write("b.ndjson", "{\"x\": 1}\n[1]\n")
        let tables = try FilesystemDiscoverer().discover(request(depth: .tables, tables: ["*.csv"])).tables
        #expect(tables.map(\.name) == ["a.csv"])
        #expect(tables[0].columns.isEmpty)
        #expect(throws: StepError.self) { try FilesystemDiscoverer().discover(self.request(tables: ["b.*"])) }
    }
}
