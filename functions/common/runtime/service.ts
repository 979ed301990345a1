/** Names shared by every function and by the stack's alarms and dashboards. Pure constants. */

/** The Powertools service name (and `service` metric dimension) of every Caretaker function. */
export const SERVICE_NAME = 'caretaker';

/** The CloudWatch namespace every Caretaker metric is published to. */
export const METRICS_NAMESPACE = 'Caretaker';
