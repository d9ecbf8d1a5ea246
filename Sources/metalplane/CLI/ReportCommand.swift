import ArgumentParser
import ControllerClient
import Foundation
import NIOCore
import NIOHTTP1

/// `metalplane report …`: a cluster's cost with its inputs, its weekly reviews and monthly reports (docs/reports.md).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "A cluster's cost, weekly placement reviews and monthly executive reports.",
        subcommands: [Cost.self, Make.self, List.self, Show.self, Download.self])

    struct Cost: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The cluster's cost over a range with every input (default: the last 7 days).")
        @Argument(help: "The tenant (slug or id).") var tenant: String
        @Option(help: "Start: milliseconds or RFC 3339.") var since: String?
        @Option(help: "End: milliseconds or RFC 3339 (default: now).") var until: String?
        func run() async throws {
            let query = TelemetryCommand.query([("since", since), ("until", until)])
            try await CLIClient.call(.GET, "/api/v1/tenants/\(TelemetryCommand.encoded(tenant))/cost" + (query.isEmpty ? "" : "?" + query))
        }
    }

    struct Make: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Make a weekly review or monthly report now.",
                                                        discussion: "e.g. metalplane report create acme --kind monthly (the last complete month); --at MS picks the period holding that time.")
        @Argument(help: "The tenant (slug or id).") var tenant: String
        @Option(help: "weekly or monthly.") var kind = "monthly"
        @Option(help: "Any time inside the period, ms since 1970 (default: the last complete period).") var at: Int64?
        func run() async throws {
            var body: [String: Any] = ["kind": kind]
            if let at { body["at"] = at }
            try await CLIClient.call(.POST, "/api/v1/tenants/\(TelemetryCommand.encoded(tenant))/reports", body: body)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The cluster's reports.")
        @Argument(help: "The tenant (slug or id).") var tenant: String
        @Option(help: "weekly or monthly.") var kind: String?
        func run() async throws {
            try await CLIClient.call(.GET, "/api/v1/tenants/\(TelemetryCommand.encoded(tenant))/reports" + (kind.map { "?kind=" + $0 } ?? ""))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A report's figures with their inputs.")
        @Argument(help: "The tenant (slug or id).") var tenant: String
        @Argument(help: "The report id.") var id: String
        func run() async throws { try await CLIClient.call(.GET, "/api/v1/tenants/\(TelemetryCommand.encoded(tenant))/reports/\(id)") }
    }

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Save a monthly report's PDF.")
        @Argument(help: "The tenant (slug or id).") var tenant: String
        @Argument(help: "The report id.") var id: String
        @Option(name: .shortAndLong, help: "Where to write it (default: <id>.pdf).") var output: String?
        func run() async throws {
            let credentials = try await TokenClient.fresh()
            let reply = try await HTTPCall.send(.GET, credentials.server + "/api/v1/tenants/\(TelemetryCommand.encoded(tenant))/reports/\(id)/pdf",
                                                headers: [("Authorization", "Bearer \(credentials.accessToken)")], timeout: .seconds(60))
            guard reply.status == 200 else {
                print(reply.text)
                throw ExitCode(1)
            }
            let path = output ?? id + ".pdf"
            try reply.body.write(to: URL(fileURLWithPath: path))
            print("wrote \(path) (\(reply.body.count) bytes)")
        }
    }
}
