"""Monitoring: alarms on the Lambdas and the dead-letter queues, into one SNS topic, and a dashboard."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.aws.stage import Stage

_PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    """Any Lambda error or throttle, and any message in a dead-letter queue, is worth a person's look:
    each alarm fires on the first one in five minutes."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        functions: dict[str, lambda_.IFunction],
        dead_letter_queues: dict[str, sqs.IQueue],
    ):
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Alarms",
            display_name=f"labelstack {stage.name} alarms",
            enforce_ssl=True,
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
        )
        if stage.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(stage.alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []
        widgets: list[cloudwatch.IWidget] = []
        for name, function in functions.items():
            errors = function.metric_errors(period=_PERIOD, statistic="Sum")
            throttles = function.metric_throttles(period=_PERIOD, statistic="Sum")
            self._alarm(f"{name}Errors", errors, f"labelstack {name} Lambda raised errors")
            self._alarm(f"{name}Throttles", throttles, f"labelstack {name} Lambda was throttled")
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{name}: invocations, errors, throttles",
                    left=[function.metric_invocations(period=_PERIOD, statistic="Sum"), errors, throttles],
                    right=[function.metric_duration(period=_PERIOD, statistic="p99")],
                )
            )
        for name, queue in dead_letter_queues.items():
            depth = queue.metric_approximate_number_of_messages_visible(period=_PERIOD, statistic="Maximum")
            self._alarm(f"{name}Depth", depth, f"labelstack {name} holds messages that failed delivery")
            widgets.append(cloudwatch.GraphWidget(title=f"{name}: messages", left=[depth]))
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"labelstack-{stage.name}")
        for start in range(0, len(widgets), 2):
            self.dashboard.add_widgets(*widgets[start : start + 2])

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str) -> None:
        alarm = metric.create_alarm(
            self,
            construct_id,
            alarm_description=description,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
