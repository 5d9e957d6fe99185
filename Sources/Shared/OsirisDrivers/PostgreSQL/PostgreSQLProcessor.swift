import OsirisCore
import OsirisData

/// `postgres.processor`: uploads every input with `COPY ... FROM STDIN` into a temporary table named
/// as `sqlite.processor` names it (`df_<id>`, also visible as the quoted step id and, for a single
/// input, as `input_df`), typed by `PostgreSQLTypes.columnType`, then runs `query` in the same
/// session, inside a transaction switched to READ ONLY once the inputs are in, and streams the
/// result out as `postgres.extractor` does. The transaction is rolled back at the end: the inputs'
/// tables vanish with it and the database is left as it was.
///
/// Every input row moves to the server, even when an input was extracted from that same server.
struct PostgreSQLProcessor: Processor {
    func process(_ context: StepContext, inputs: [any BatchSource], output: any BatchSink) throws(StepError) {
        _ = try context.requiredString("query")
        let query = try PostgreSQLExtractor.query(context)
        var tables: [String: String] = [:]
        for input in inputs {
            let table = SQLiteProcessor.tableName(for: input.stepID)
            if let other = tables[table] {
                throw StepError(.configuration, """
                    inputs '\(other)' and '\(input.stepID)' of step '\(context.step.id)' would both be table \(table); \
                    rename one of the steps
                    """)
            }
            tables[table] = input.stepID
        }
        try PostgreSQLConnection.inTransaction(context) { connection throws(StepError) in
            for input in inputs {
                try upload(input, single: inputs.count == 1, connection: connection, context: context)
            }
            try connection.execute("SET TRANSACTION READ ONLY")
            do throws(StepError) {
                try PostgreSQLExtractor.stream(query, on: connection, context: context, output: output) { _, _ in }
            } catch where error.code == .run {
                throw StepError(.run, "query of step '\(context.step.id)' fails: \(error.message)")
            }
            try connection.execute("ROLLBACK")
        }
    }

    /// Creates the input's temporary table and its other names, and copies the input into it.
    private func upload(_ input: any BatchSource, single: Bool, connection: PostgreSQLConnection, context: StepContext) throws(StepError) {
        let quote = PostgreSQLConnection.quote
        let schema = try input.schema()
        let table = SQLiteProcessor.tableName(for: input.stepID)
        let name = "pg_temp." + quote(table)
        try connection.execute("CREATE TEMP TABLE \(quote(table)) (\(PostgreSQLTypes.columnDefinitions(schema)))")
        if input.stepID != table {
            try connection.execute("CREATE TEMP VIEW \(quote(input.stepID)) AS SELECT * FROM \(name)")
        }
        if single { try connection.execute("CREATE TEMP VIEW \"input_df\" AS SELECT * FROM \(name)") }
        let columns = schema.names.map(quote).joined(separator: ", ")
        _ = try connection.copyIn(input, into: "\(name) (\(columns))", ordinal: false, context: context)
    }
}
