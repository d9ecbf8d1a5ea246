import Foundation
import NIOHTTP1
import TestPeers
import Testing

@Suite(.serialized) struct OperatorGuideTests {
    /// The `sh` blocks of a Markdown page, in order.
    static func shellBlocks(of page: String) -> [String] {
        var blocks: [String] = []
        var current: [String]?
        for line in page.components(separatedBy: "\n") {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```sh" {
                current = []
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    @Test func everyCommandOfTheOnboardingGuideWorks() async throws {
        let controller = try await ControllerProcess()
        let page = try String(contentsOf: ControllerProcess.root.appendingPathComponent("docs/onboarding.md"), encoding: .utf8)
        let blocks = Self.shellBlocks(of: page)
        #expect(blocks.count >= 8)
        let workspace = controller.dataDirectory + "-guide"
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        let script = "set -euo pipefail\ncd '\(workspace)'\n" + blocks.joined(separator: "\n")
        let binaryDirectory = URL(fileURLWithPath: ControllerProcess.binary).deletingLastPathComponent().path
        let result = try await run("bash", ["-c", script], environment: [
            "METALPLANE_SERVER": controller.baseURL, "ADMIN_PASSWORD": controller.password,
            "METALPLANE_CREDENTIALS": workspace + "/admin.json",
            "PATH": binaryDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
        ])
        #expect(result.status == 0, "\(result.output.suffix(3000))")
        #expect(result.output.contains("project ml-prod asks 8 nvidia/H100; org research limit 16, 12 already assigned to 2 other projects"))
        #expect(result.output.contains("tenant_not_empty"))
        #expect(result.output.contains("alice (user"))
        controller.kill(SIGTERM)
    }

    /// The backup runbook's commands, against a directory target and then a real S3 server (moto),
    /// beside a running controller; a controller started on the restored directory serves.
    @Test func everyCommandOfTheBackupRunbookWorks() async throws {
        let controller = try await ControllerProcess()
        let page = try String(contentsOf: ControllerProcess.root.appendingPathComponent("docs/backups.md"), encoding: .utf8)
        let blocks = Self.shellBlocks(of: page)
        #expect(blocks.count >= 3)
        let s3 = try await S3Server()
        defer { s3.stop() }
        let bucket = try await run("python3", ["-c", "import boto3; boto3.client('s3', endpoint_url='\(s3.endpoint)', aws_access_key_id='t', aws_secret_access_key='t', region_name='us-east-1').create_bucket(Bucket='runbook')"])
        #expect(bucket.status == 0, "the runbook's bucket: \(bucket.output)")
        // Something to find in the restore: a realm made before the backups.
        let admin = try await controller.token()
        #expect(try await controller.call(.POST, "/api/v1/realms", bearer: admin, json: #"{"name": "runbook-check"}"#).status == 201)
        let binaryDirectory = URL(fileURLWithPath: ControllerProcess.binary).deletingLastPathComponent().path
        for (name, extra) in [("dir", [String: String]()),
                              ("s3", ["METALPLANE_BACKUP_TARGET": "s3://runbook/prod", "METALPLANE_BACKUP_S3_ENDPOINT": s3.endpoint,
                                      "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"])] {
            let workspace = controller.dataDirectory + "-runbook-" + name
            try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
            let script = "set -euo pipefail\ncd '\(workspace)'\n" + blocks.joined(separator: "\n")
            let result = try await run("bash", ["-c", script], environment: extra.merging([
                "METALPLANE_DATA_DIR": controller.dataDirectory,
                "PATH": binaryDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
            ]) { $1 })
            #expect(result.status == 0, "\(name): \(result.output.suffix(3000))")
            #expect(result.output.contains("integrity ok") && result.output.contains("keep ") && result.output.contains("metalplane.sqlite")
                    && result.output.contains("audit archive ok"),
                    "\(name): \(result.output.suffix(2000))")
            let restored = try await ControllerProcess(dataDirectory: workspace + "/restored", arguments: ["--public-url", controller.baseURL])
            // The original's token works (the realm keys came back) and the realm made before the backup is there.
            let realms = try await restored.call(.GET, "/api/v1/realms", bearer: try await controller.token())
            #expect(realms.status == 200 && (realms.json["items"] as? [[String: Any]])?.contains { $0["name"] as? String == "runbook-check" } == true,
                    "\(name): \(realms.text.prefix(500))")
            restored.kill(SIGTERM)
        }
        controller.kill(SIGTERM)
    }
}
