import Backup
import Fabric
import Gateway
import IAM
import NetworkPools
import Provisioner
import Quota
import Reports
import Scheduler
import Storage
import Telemetry
import Tenancy

/// Every module's migrations, in the order the controller applies them: its store, a logical
/// backup's SQLite file and a restore into a new store are all made with this one list.
public enum ControllerSchema {
    public static let migrations: [Migration] = IAMSchema.migrations + IdempotencyStore.migrations + NetworkSchema.migrations
        + QuotaLedger.migrations + TenancySchema.migrations + ProvisionerSchema.migrations + SchedulerSchema.migrations + GatewaySchema.migrations
        + BackupSchema.migrations + FabricSchema.migrations + LeaderLease.migrations + TelemetrySchema.migrations + ReportsSchema.migrations
}
