package handler

import "github.com/pilotsync/pilotsync/shared/metrics"

// MeasuredJob names the daily measured job in its metrics.
const MeasuredJob = "measured"

// Every handler writes one CloudWatch EMF line per run (shared/metrics):
// on stdout inside Lambda by default (metrics.Default), nowhere elsewhere.
// These options send them to another emitter (tests, the local runner).

// WithPollMetrics sets the poll handler's metrics emitter (nil: none).
func WithPollMetrics(e *metrics.Emitter) PollOption { return func(p *Poll) { p.metrics = e } }

// WithActivityMetrics sets the activity handler's metrics emitter (nil: none).
func WithActivityMetrics(e *metrics.Emitter) ActivityOption {
	return func(h *Activity) { h.metrics = e }
}

// SetMetrics sets the daily handler's metrics emitter (nil: none).
func (h *Measured) SetMetrics(e *metrics.Emitter) { h.metrics = e }
