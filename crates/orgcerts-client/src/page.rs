use futures_core::Stream;
use futures_util::{TryStreamExt, stream};
use orgcerts_api::ListResponse;
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::params::Query;
use crate::{Client, Result};

/// One page of a cursor-paginated list, and the way to the next.
///
/// Mirrors the official SDKs' `ConversationCursorPage`: there is a next page while `has_more`
/// is true, `data` is not empty and `last_id` is non-empty; it is fetched with `after=last_id`
/// and the other parameters (`limit`, `order`, ...) unchanged.
///
/// One exception: an audit log page listed with `before` goes the other way, as its `has_more`
/// does (more entries newer than the page): its next page is `before=first_id`. Each page is
/// still newest first; the pages grow newer.
#[derive(Debug, Clone)]
pub struct CursorPage<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Whether more items follow this page.
    pub has_more: bool,
    /// The id of `data[0]`.
    pub first_id: Option<String>,
    /// The id of the last item of `data`: the cursor of the next page.
    pub last_id: Option<String>,
    request_id: Option<String>,
    body: String,
    request: PageRequest,
}

/// What fetches a page: the list's path and its query.
#[derive(Debug, Clone)]
pub(crate) struct PageRequest {
    client: Client,
    segments: Vec<String>,
    query: Query,
    direction: Direction,
}

/// Which way the next page lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// `after=last_id`.
    After,
    /// `before=first_id`.
    Before,
}

impl PageRequest {
    pub(crate) fn new(client: &Client, segments: &[&str], query: Query) -> Self {
        Self {
            client: client.clone(),
            segments: segments
                .iter()
                .map(|segment| (*segment).to_owned())
                .collect(),
            query,
            direction: Direction::After,
        }
    }

    /// Pages with `before=first_id` instead of `after=last_id`.
    pub(crate) fn backward(mut self) -> Self {
        self.direction = Direction::Before;
        self
    }

    pub(crate) async fn fetch<T: DeserializeOwned>(self) -> Result<CursorPage<T>> {
        let segments: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        let response = self
            .client
            .call::<ListResponse<T>>(Method::GET, &segments, &self.query, None::<&()>)
            .await?;
        let (list, request_id, body) = response.into_parts();
        Ok(CursorPage {
            data: list.data,
            has_more: list.has_more,
            first_id: list.first_id,
            last_id: list.last_id,
            request_id,
            body,
            request: self,
        })
    }
}

impl<T> CursorPage<T> {
    /// Whether [`CursorPage::next_page`] has a page to fetch.
    pub fn has_next_page(&self) -> bool {
        self.next_request().is_some()
    }

    /// The response's `x-request-id`.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The page's body exactly as the API sent it.
    pub fn raw_body(&self) -> &str {
        &self.body
    }

    fn next_request(&self) -> Option<PageRequest> {
        let cursor = match self.request.direction {
            Direction::After => &self.last_id,
            Direction::Before => &self.first_id,
        };
        let cursor = cursor.as_deref().filter(|id| !id.is_empty())?;
        if !self.has_more || self.data.is_empty() {
            return None;
        }
        let mut request = self.request.clone();
        match request.direction {
            Direction::After => request.query.set_after(cursor),
            Direction::Before => request.query.set_before(cursor),
        }
        Some(request)
    }
}

/// Where a page stream stands.
enum Next<T> {
    Yield(CursorPage<T>),
    Fetch(PageRequest),
    Done,
}

impl<T: DeserializeOwned + Send + 'static> CursorPage<T> {
    /// Fetches the next page; `None` when this is the last.
    pub async fn next_page(&self) -> Result<Option<Self>> {
        match self.next_request() {
            Some(request) => request.fetch().await.map(Some),
            None => Ok(None),
        }
    }

    /// This page, then every following page. An error ends the stream after it is yielded.
    ///
    /// The stream is boxed, so `try_next().await` works on it without pinning.
    pub fn into_pages(self) -> impl Stream<Item = Result<Self>> + Send + Unpin + 'static {
        Box::pin(stream::try_unfold(Next::Yield(self), |next| async move {
            let page = match next {
                Next::Yield(page) => page,
                Next::Fetch(request) => request.fetch().await?,
                Next::Done => return Ok(None),
            };
            let next = page.next_request().map_or(Next::Done, Next::Fetch);
            Ok(Some((page, next)))
        }))
    }

    /// Every item of this page and the following pages, fetching each page when the previous
    /// one is used up. An error ends the stream after it is yielded.
    ///
    /// ```no_run
    /// # async fn run(client: orgcerts_client::Client) -> orgcerts_client::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let page = client.admin().organization().certificates().list(&Default::default()).await?;
    /// let all: Vec<_> = page.into_stream().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn into_stream(self) -> impl Stream<Item = Result<T>> + Send + Unpin + 'static {
        self.into_pages()
            .map_ok(|page| stream::iter(page.data.into_iter().map(Ok)))
            .try_flatten()
    }
}
