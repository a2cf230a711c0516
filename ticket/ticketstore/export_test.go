package ticketstore

// The queue's statements, for TestQueueUsesIndexes.
const (
	QueueCountSQL = queueCountSQL
	QueueListSQL  = queueListSQL
)
