//! The service end to end, through the real routes and middleware.

mod audit;
mod audit_queue;
mod auth;
mod calibration;
mod cases;
mod cli;
mod concurrency;
mod credit;
mod dashboard;
mod detection;
mod helpers;
mod insurance;
mod labels;
mod lifecycle;
mod limits;
mod models;
mod observability;
mod openapi;
mod outages;
mod process;
mod redis_windows;
mod review;
mod rules;
mod scale_out;
mod tasks;
mod validation;
