//! `Accept: application/vnd.pgrst.plan[+json|+text]` (PostgREST's plan media type, behind
//! `db-plan-enabled`): the request is planned as usual for the media type in its `for`
//! parameter, and its main statement runs under EXPLAIN instead. The response's Content-Type
//! names the plan media type in full, `for` included (PostgREST's `toMime`), e.g.
//! `application/vnd.pgrst.plan+json; for="application/vnd.pgrst.object+json"; charset=utf-8`.

use super::{MainTx, Shape};
use crate::config::Config;
use crate::http::HttpResponse;
use crate::request::media_type::MediaType;
use crate::request::ApiRequest;

#[derive(Debug, Clone)]
pub struct PlanShape {
    pub media: MediaType,
}

/// The plan media type and the request as it is planned (for the `for` media type), when
/// the client asks for a plan first and plans are enabled.
pub fn plan_request(config: &Config, api: &ApiRequest) -> Option<(MediaType, ApiRequest)> {
    let media @ MediaType::Plan { for_media, .. } = api.accept.first()? else { return None };
    if !config.db_plan_enabled {
        return None;
    }
    let mut planned = api.clone();
    planned.accept = vec![(**for_media).clone()];
    Some((media.clone(), planned))
}

/// Run `main`'s statement under EXPLAIN and answer with the plan.
pub fn wrap(main: &mut MainTx, media: MediaType) {
    if let MediaType::Plan { json, options, .. } = &media {
        let mut opts = vec![if *json { "FORMAT JSON".to_string() } else { "FORMAT TEXT".to_string() }];
        // PostgREST's `explainF`: the options in its order, as the media type keeps them
        opts.extend(options.iter().map(|o| o.to_uppercase()));
        main.job.statement.sql = format!("EXPLAIN ({}) {}", opts.join(", "), main.job.statement.sql);
        main.job.explain = None;
    }
    main.set_shape(Shape::Plan(PlanShape { media }));
}

/// The plan: JSON in one row, text one line per row.
pub fn respond(shape: &PlanShape, rows: &[Vec<Option<String>>]) -> HttpResponse {
    let lines: Vec<&str> = rows.iter().filter_map(|r| r.first().and_then(|v| v.as_deref())).collect();
    HttpResponse::new(200, vec![("Content-Type".into(), shape.media.content_type())], lines.join("\n").into_bytes())
}
