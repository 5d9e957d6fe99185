import CSQLite3
import Foundation
import OML
import OsirisCore
@testable import OsirisDrivers
import Testing

@Suite final class SQLiteDiscovererTests {
    let folder = temporaryFolder()
    deinit { try? FileManager.default.removeItem(at: folder) }

    func database() throws -> String {
        let path = folder.appendingPathComponent("shop.db").path
        let database = try SQLiteDatabase(path: path, create: true)
        try database.execute("""
            CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, country VARCHAR(2));
            CREATE TABLE orders (
                id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
                total NUMERIC(12,2), created_at TIMESTAMP, paid BOOLEAN DEFAULT 0, note);
            CREATE TABLE order_items (order_id INTEGER, line INTEGER, sku TEXT, PRIMARY KEY (order_id, line),
                FOREIGN KEY (order_id) REFERENCES orders);
            CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
            """)
        database.close()
        return path
    }

    func request(_ path: String, depth: DiscoveryDepth = .columns, tables: [String] = []) -> DiscoveryRequest {
        DiscoveryRequest(connection: ResolvedConnection(reference: "@sqlite.shop", family: "sqlite", fields: ["path": .string(path)]),
                         depth: depth, tables: tables)
    }

    @Test func discoversTablesColumnsAndKeys() throws {
        let path = try database()
        let discoverer = try #require(DriverRegistry().discoverer(forFamily: "sqlite3"))
        let result = try discoverer.discover(request(path))
        #expect(result.database == "shop")
        #expect(result.tables.map(\.name) == ["big_orders", "customers", "order_items", "orders"])
        #expect(result.tables.map(\.kind) == ["view", "table", "table", "table"])
        let orders = result.tables[3]
        #expect(orders.columns == [
            SnapshotColumn(name: "id", type: "INTEGER", logicalType: "int64", nullable: false),
            SnapshotColumn(name: "customer_id", type: "INTEGER", logicalType: "int64", nullable: false),
            SnapshotColumn(name: "total", type: "NUMERIC(12,2)", logicalType: "decimal", nullable: true),
            SnapshotColumn(name: "created_at", type: "TIMESTAMP", logicalType: "timestamp", nullable: true),
            SnapshotColumn(name: "paid", type: "BOOLEAN", logicalType: "bool", nullable: true, defaultValue: "0"),
            SnapshotColumn(name: "note", type: "", logicalType: "bytes", nullable: true),
        ])
        #expect(orders.primaryKey == ["id"])
        #expect(orders.foreignKeys == [SnapshotForeignKey(columns: ["customer_id"], referencedSchema: "main", referencedTable: "customers", referencedColumns: ["id"])])
        let items = result.tables[2]
        #expect(items.primaryKey == ["order_id", "line"])
        #expect(items.columns.map(\.nullable) == [true, true, true])
        #expect(items.foreignKeys == [SnapshotForeignKey(columns: ["order_id"], referencedSchema: "main", referencedTable: "orders", referencedColumns: ["id"])])
        #expect(result.tables[0].columns.map(\.name) == ["id", "total"])
    }

    @Test func tablesDepthAndPatterns() throws {
        let path = try database()
        let result = try SQLiteDiscoverer().discover(request(path, depth: .tables, tables: ["order*", "main.customers"]))
        #expect(result.tables.map(\.name) == ["customers", "order_items", "orders"])
        #expect(result.tables.allSatisfy { $0.columns.isEmpty && $0.rowEstimate == nil })
    }

    @Test func lookupByFamilyAndMissingFile() {
        #expect(DriverRegistry().discoverer(forFamily: "pg") is PostgreSQLDiscoverer)
        #expect(DriverRegistry().discoverer(forFamily: "parquet") == nil)
        #expect(DriverRegistry().discoverableFamilies == ["filesystem", "mysql", "postgres", "sqlite", "supabase"])
        do {
            _ = try SQLiteDiscoverer().discover(request(folder.appendingPathComponent("none.db").path))
            Issue.record("a missing database was discovered")
        } catch {
            #expect(error.code == .run)
        }
    }
}

@Suite struct ConfigDefaultsTests {
    @Test func specDefaultsAreFilledOnceWhenTheContextIsBuilt() {
        let step = context("sqlite.writer", mode: "write", config: ["table": "t", "path": "x.db"], folder: URL(fileURLWithPath: "/tmp"))
        #expect(step.config("write_mode") == "append")
        #expect(step.config("create_table") == true)
        let csv = ConfigDefaults.filled(["path": "a.csv", "delimiter": ";"], component: "filesystem.csv_extractor")
        #expect(csv["delimiter"] == ";")
        #expect(csv["header"] == true)
        #expect(csv["connection"] == nil)
        let postgres = ConfigDefaults.filled(["table": "t"], component: "postgres.extractor")
        #expect(postgres["host"] == nil)
        #expect(ConfigDefaults.filled(["x": 1], component: "nope.component") == ["x": 1])
    }
}
