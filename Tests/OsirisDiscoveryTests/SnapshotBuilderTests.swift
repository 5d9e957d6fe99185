import OML
import OsirisCore
@testable import OsirisDiscovery
import OsirisDrivers
import Testing

@Suite struct SnapshotBuilderTests {
    static let connection = ResolvedConnection(reference: "@pg.shop", family: "postgres", fields: [:])

    static func table(_ schema: String, _ name: String, estimate: Int? = nil, comment: String? = nil) -> SnapshotTable {
        SnapshotTable(
            schema: schema, name: name, kind: "table", rowEstimate: estimate,
            columns: [SnapshotColumn(name: "id", type: "integer", logicalType: "int64", nullable: false, defaultValue: "0")],
            primaryKey: ["id"], foreignKeys: [], comment: comment)
    }

    @Test func tablesAreSortedByBytesAndTheFingerprintIgnoresEstimatesAndComments() {
        let result = DiscoveryResult(database: "shop", serverVersion: "15.4", tables: [
            Self.table("sales", "orders", estimate: 10), Self.table("Inventory", "b"), Self.table("Inventory", "B"),
        ])
        let snapshot = SnapshotBuilder.snapshot(result, connection: Self.connection, depth: .columns)
        #expect(snapshot.tables.map { "\($0.schema).\($0.name)" } == ["Inventory.B", "Inventory.b", "sales.orders"])
        let other = DiscoveryResult(database: "shop", serverVersion: "16.1", tables: [
            Self.table("sales", "orders", estimate: 99_999, comment: "new"), Self.table("Inventory", "B"), Self.table("Inventory", "b"),
        ])
        #expect(SnapshotBuilder.snapshot(other, connection: Self.connection, depth: .columns).fingerprint == snapshot.fingerprint)
        var changed = other
        changed.tables[0].columns[0].nullable = true
        #expect(SnapshotBuilder.snapshot(changed, connection: Self.connection, depth: .columns).fingerprint != snapshot.fingerprint)
    }

    @Test func theSnapshotRoundTripsThroughItsDecoder() throws {
        var table = Self.table("public", "users", estimate: 3, comment: "people")
        table.columns.append(SnapshotColumn(
            name: "password_hash", type: "text", logicalType: "text", nullable: true, comment: "bcrypt",
            statistics: SnapshotColumnStatistics(nullFraction: 0.5, distinctEstimate: 2, min: "$2a$x", max: "$2a$y")))
        table.sampleRows = [["id": "1", "password_hash": "$2a$x"], ["id": "2", "password_hash": .null]]
        let snapshot = SnapshotBuilder.snapshot(
            DiscoveryResult(database: "shop", serverVersion: "15.4", tables: [table]), connection: Self.connection, depth: .profile)
        let bytes = JSONWriter.line(snapshot.json)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("$2a$"))
        let decoded = try Snapshot.decode(bytes, path: "-")
        #expect(decoded.tables == snapshot.tables)
        #expect(decoded.tables[0].columns[1].statistics == SnapshotColumnStatistics(nullFraction: 0.5, distinctEstimate: 2, min: "***", max: "***"))
        #expect(decoded.tables[0].sampleRows == [["id": "1", "password_hash": "***"], ["id": "2", "password_hash": .null]])
        #expect(JSONWriter.line(decoded.json) == bytes)
        #expect(decoded.serverVersion == "15.4" && decoded.connectionName == "@pg.shop")
    }

    @Test func olderSnapshotsAndURLConnectionsStillDecode() throws {
        let old = #"{"snapshot_version": 1, "connection": "@pg.shop", "tables": [{"name": "t", "columns": [{"name": "a"}]}]}"#
        let snapshot = try Snapshot.decode(Array(old.utf8), path: "old.json")
        #expect(snapshot.family == "pg" && snapshot.depth == "columns" && snapshot.tables[0].columns[0].defaultValue == nil)
        let url = #"{"snapshot_version": 1, "connection": "postgres://ann@db/shop", "family": "postgres", "tables": []}"#
        let fromURL = try Snapshot.decode(Array(url.utf8), path: "url.json")
        #expect(fromURL.connection == ConnectionReference(family: "postgres", alias: ""))
        #expect(fromURL.connectionName == "postgres://ann@db/shop")
    }

    @Test(arguments: ["password", "user_password", "Password_Hash", "api_key", "github_token", "client_secret", "credentials"])
    func secretLookingColumns(name: String) {
        #expect(SnapshotBuilder.isSecret(column: name))
    }

    @Test(arguments: ["id", "name", "passage", "keyword", "email"])
    func ordinaryColumns(name: String) {
        #expect(!SnapshotBuilder.isSecret(column: name))
    }
}
