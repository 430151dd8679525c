package status

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// SQS publishes ApproximateAgeOfOldestMessage to CloudWatch every minute
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html);
// a look-back of 15 minutes finds a point even when one publication is late.
const (
	ageMetric   = "ApproximateAgeOfOldestMessage"
	ageLookBack = 15 * time.Minute
	agePeriod   = 60 // seconds
)

// MetricReader is the CloudWatch call CloudWatchAger makes.
type MetricReader interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// CloudWatchAger reads a queue's oldest-message age from CloudWatch, the
// source that works in AWS without touching the queue. moto publishes no SQS
// metrics, so locally use Options.PeekDLQ instead.
type CloudWatchAger struct {
	CW  MetricReader
	Now func() time.Time
}

// OldestAge returns the latest ApproximateAgeOfOldestMessage of queueName.
func (a CloudWatchAger) OldestAge(ctx context.Context, queueName string) (time.Duration, bool, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	end := now()
	out, err := a.CW.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(end.Add(-ageLookBack)),
		EndTime:   aws.Time(end),
		ScanBy:    cwtypes.ScanByTimestampDescending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{
			Id: aws.String("age"),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{
					Namespace:  aws.String("AWS/SQS"),
					MetricName: aws.String(ageMetric),
					Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String(queueName)}},
				},
				Period: aws.Int32(agePeriod),
				Stat:   aws.String("Maximum"),
			},
		}},
	})
	if err != nil {
		return 0, false, fmt.Errorf("status: cloudwatch %s of %s: %w", ageMetric, queueName, err)
	}
	for _, r := range out.MetricDataResults {
		if len(r.Values) > 0 {
			return time.Duration(r.Values[0] * float64(time.Second)), true, nil
		}
	}
	return 0, false, nil
}
